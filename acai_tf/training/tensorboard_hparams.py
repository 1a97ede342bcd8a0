"""A run's config on TensorBoard's HParams dashboard, so that runs compare as one sortable table.

    tensorboard --logdir out/lines_repro     # HParams tab: one row per run, a column per field

Each training start writes the run's config (flattened: `model.name`, `train.dataset`,
`train.seed`, `model.lr`, the model's hyperparameters with their defaults, ...) as the HParams
plugin's session-start summary into the run's TensorBoard folder `tb/train`. The dashboard takes a run's metric values from the scalars of
that same folder, i.e. the last report's `eval/*` and `losses/*`: the run's final metrics.
`write_experiment` can add, at the root of a folder of runs, which metrics to show as columns.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import tensorflow as tf
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.plugins.hparams import api as hparams_api
from tensorboard.plugins.hparams import metadata

from acai_tf.config import ExperimentConfig

Value = bool | int | float | str

# The metrics shown by default: the lines benchmark, the latent classifier, the reconstruction.
DEFAULT_METRICS = ("eval/mean_distance", "eval/mean_smoothness", "eval/long_way_fraction",
                   "eval/latent_accuracy", "losses/reconstruction")


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Value]:
    """The config's leaves as {dotted name: value}, the values the dashboard accepts.

    Args:
        config: nested dict of a config's fields (`ExperimentConfig.to_dict()`).
        prefix: prepended to every name (used by the recursion).

    Returns:
        {"model.name": "acai", "model.hparams.advweight": 0.5, "train.seed": 0, ...}: lists and
        tuples become comma-joined strings, None fields are left out (the dashboard has no null).
    """
    flat: dict[str, Value] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            flat[name] = ",".join(str(item) for item in value)
        elif isinstance(value, (bool, int, float, str)):
            flat[name] = value
        elif value is not None:
            flat[name] = str(value)
    return flat


def fields(config: ExperimentConfig) -> dict[str, Value]:
    """The run's columns: every config field, the model's hyperparameters with their defaults."""
    return flatten(config.to_resolved_dict())


def write_session(logdir: str, config: ExperimentConfig, trial_id: str | None = None) -> None:
    """Writes the session-start summary (the run's hyperparameters) into `logdir`.

    Args:
        logdir: the run's TensorBoard folder, the one holding its scalars (W/tb/train).
        config: the run's config.
        trial_id: the row's name on the dashboard; by default a hash of the values.
    """
    writer = tf.summary.create_file_writer(logdir)
    try:
        with writer.as_default():
            hparams_api.hparams(fields(config), trial_id=trial_id)
        writer.flush()
    finally:
        writer.close()


def write_experiment(root: str, configs: Sequence[ExperimentConfig],
                     metrics: Sequence[str] = DEFAULT_METRICS) -> None:
    """Declares the dashboard's columns at the root of a folder of runs.

    Args:
        root: the folder TensorBoard is pointed at.
        configs: the runs' configs; every field found in one becomes a column.
        metrics: scalar tags shown as metric columns (their last value per run).
    """
    names = sorted({name for config in configs for name in fields(config)})
    writer = tf.summary.create_file_writer(os.path.join(root, "hparams"))
    try:
        with writer.as_default():
            hparams_api.hparams_config(
                hparams=[hparams_api.HParam(name) for name in names],
                metrics=[hparams_api.Metric(tag) for tag in metrics])
        writer.flush()
    finally:
        writer.close()


def read_sessions(root: str) -> dict[str, dict[str, Value]]:
    """What the dashboard shows under `root`, read through TensorBoard's own plugin reader.

    Returns:
        {run folder relative to root: {field: value}} for every run with a session summary
        (numbers come back as floats).
    """
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(root)
    multiplexer.Reload()
    sessions = {}
    for run, tags in multiplexer.PluginRunToTagToContent(metadata.PLUGIN_NAME).items():
        if metadata.SESSION_START_INFO_TAG in tags:
            info = metadata.parse_session_start_info_plugin_data(
                tags[metadata.SESSION_START_INFO_TAG])
            sessions[run] = {name: getattr(value, value.WhichOneof("kind"))
                             for name, value in info.hparams.items()}
    return sessions
