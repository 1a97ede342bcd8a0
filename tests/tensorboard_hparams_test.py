"""Tests of acai_tf.training.tensorboard_hparams, read back through TensorBoard's own HParams
reader."""

import os
import sys

import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.plugins.hparams import metadata

from acai_tf.training import tensorboard_hparams

import tiny


def tiny_config(seed=0):
    """A tiny ACAI with one hyperparameter given (advweight) and the others at their defaults."""
    return tiny.experiment(tiny.model_config("acai", hparams={"advweight": 0.5}), train_kimg=1,
                           report_kimg=0.5, seed=seed)


def read_experiment(root):
    """The experiment summary (declared columns) as the plugin reads it."""
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(root)
    multiplexer.Reload()
    for tags in multiplexer.PluginRunToTagToContent(metadata.PLUGIN_NAME).values():
        if metadata.EXPERIMENT_TAG in tags:
            return metadata.parse_experiment_plugin_data(tags[metadata.EXPERIMENT_TAG])
    return None


def test_fields_are_dotted_scalars_with_every_hyperparameter():
    flat = tensorboard_hparams.fields(tiny_config())
    assert flat["model.name"] == "acai" and flat["model.hparams.advweight"] == 0.5
    assert flat["model.hparams.update_order"] == "alternating"  # a default, not given
    assert flat["train.seed"] == 0 and flat["train.dataset"] == "lines32"
    assert all(isinstance(value, (bool, int, float, str)) for value in flat.values())
    assert tensorboard_hparams.flatten({"a": [1, 2], "b": None, "c": {"d": True}}) == {
        "a": "1,2", "c.d": True}


def test_runs_show_as_rows_with_their_config_and_declared_metrics(tmp_path):
    root = str(tmp_path)
    configs = [tiny_config(seed) for seed in (0, 1)]
    for seed, config in enumerate(configs):
        logdir = os.path.join(root, f"seed{seed}", "tb", "train")
        tensorboard_hparams.write_session(logdir, config, trial_id=f"seed{seed}")
        writer = tf.summary.create_file_writer(logdir)
        with writer.as_default(step=1):
            tf.summary.scalar("eval/mean_distance", 0.01 * (seed + 1))
        writer.close()
    tensorboard_hparams.write_experiment(root, configs)

    sessions, experiment = tensorboard_hparams.read_sessions(root), read_experiment(root)
    assert sorted(sessions) == [os.path.join("seed0", "tb", "train"),
                                os.path.join("seed1", "tb", "train")]
    assert [session["train.seed"] for _, session in sorted(sessions.items())] == [0, 1]
    assert all(session["model.name"] == "acai" for session in sessions.values())
    assert {metric.name.tag for metric in experiment.metric_infos} == set(
        tensorboard_hparams.DEFAULT_METRICS)
    assert "model.hparams.advweight" in {info.name for info in experiment.hparam_infos}


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
