"""What the paper tables know of a training run: its records, read from files, never a model.

A run is read from its workdir W: W/config.json (the group it belongs to), W/eval/results.json
(the checkpoint evaluation, written by the `evaluate` binary) and W/metrics.jsonl (every
training report's scalars, `acai_tf.training.metrics_log`). Nothing here restores a model or reads
TensorBoard; a run without results.json is an error naming the command that writes it, or is
reported with its training-time evaluations only.

Runs are grouped by (dataset, model, latent dim): repetitions of one experiment over seeds.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Sequence

import numpy as np

from acai_tf.training import metrics_log
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.errors import UserError
from acai_tf.evaluation import results as results_lib

# The training-time evaluations whose medians the tables use (the paper's protocol).
TRAINING_TAGS = ("eval/mean_distance", "eval/mean_smoothness", "eval/long_way_fraction",
                 "eval/latent_accuracy")
MISSING_POLICIES = ("error", "skip")
# Config fields runs of one group may differ in: they are repetitions of one experiment.
_REPEAT_FIELDS = {"seed", "data_dir", "strategy"}


class ReportError(UserError, RuntimeError):
    """A run cannot be reported; the message is one line."""


@dataclasses.dataclass(frozen=True)
class Run:
    """What the tables use of one workdir.

    Attributes:
        workdir: the run's directory.
        config: its config.json as a dict.
        key: (dataset, model, latent dim), the group it belongs to.
        results: eval/results.json, or None.
        training: {tag: median of the last `last_n` training-time values} for the
            TRAINING_TAGS found in metrics.jsonl.
        last_n: see training.
    """

    workdir: str
    config: dict[str, Any]
    key: tuple[str, str, int]
    results: dict[str, Any] | None
    training: dict[str, float]
    last_n: int = 20


def precision_history(train: dict[str, Any], starts: Sequence[dict[str, Any]]) -> str:
    """Which precision trained a run and from which kimg: "float32" for a run trained in one,
    else e.g. "float32, mixed_bfloat16 from 5,440 kimg, float32 from 6,208 kimg".

    Args:
        train: the run's config.json "train" section (its precision: the latest start's);
        starts: its run records (config.json "runs": one per start, with "precision" and
            "from_step"; records older than those fields count as the config's precision).
    """
    latest = train.get("precision", "float32")
    stages: list[tuple[str, int]] = []
    for start in starts or [{}]:
        precision, step = start.get("precision", latest), start.get("from_step") or 0
        if not stages or stages[-1][0] != precision:
            stages.append((precision, step))
    batch = train.get("batch", 64)
    return ", ".join(precision if step == 0 else f"{precision} from {step * batch / 1024:,.0f} kimg"
                     for precision, step in stages)


def training_medians(workdir: str, last_n: int = 20) -> dict[str, float]:
    """{tag: median of the last `last_n` values by step} for TRAINING_TAGS in W/metrics.jsonl.

    A step reported twice (a run resumed after a crash) counts once, with its latest value; a
    NaN value (written as null) makes the median NaN.
    """
    records = metrics_log.read(workdir)
    medians = {}
    for tag in TRAINING_TAGS:
        values = metrics_log.series(records, tag)
        if values:
            medians[tag] = float(np.median(values[-last_n:]))
    return medians


def load_run(workdir: str, last_n: int = 20) -> Run:
    """Reads a run's config, results (if any) and training-time evaluations.

    Raises:
        ReportError: no readable config.json, or an unreadable results.json.
    """
    try:
        config = workdir_lib.load_config(workdir)
    except workdir_lib.WorkdirError as error:
        raise ReportError(str(error)) from None
    try:
        results = results_lib.read(workdir)
    except (OSError, ValueError) as error:
        raise ReportError(f"cannot read {results_lib.results_path(workdir)}: {error}") from None
    width, _, channels = config.model.latent_shape
    return Run(workdir=workdir, config=config.to_dict(),
               key=(config.train.dataset, config.model.name, width * width * channels),
               results=results, training=training_medians(workdir, last_n), last_n=last_n)


def collect_runs(workdirs: Sequence[str], *, last_n: int = 20,
                 missing: str = "error") -> list[Run]:
    """Loads runs, dealing with those that have no eval/results.json as `missing` says.

    Args:
        workdirs: training workdirs.
        last_n: training-time evaluations whose median stands for a run.
        missing: "error" raises ReportError naming the first run without results and the
            command that evaluates it; "skip" reports it in the training-time tables only.

    Raises:
        ReportError.
    """
    if missing not in MISSING_POLICIES:
        raise ReportError(f"missing must be one of {', '.join(MISSING_POLICIES)}, got "
                          f"{missing!r}")
    runs = []
    for workdir in workdirs:
        run = load_run(workdir, last_n)
        if run.results is None and missing == "error":
            raise ReportError(f"{results_lib.results_path(workdir)} does not exist: evaluate "
                              f"the run with python -m flags.evaluate --workdir={workdir}, or "
                              "report without it with --missing=skip")
        runs.append(run)
    return runs


def groups(runs: Sequence[Run]) -> dict[tuple[str, str, int], list[Run]]:
    """Runs by (dataset, model, latent dim), in the order first seen."""
    grouped: dict[tuple[str, str, int], list[Run]] = {}
    for run in runs:
        grouped.setdefault(run.key, []).append(run)
    return grouped


def group_warnings(runs: Sequence[Run]) -> list[str]:
    """One line per group whose runs differ in more than the repetition fields (seed, ...)."""
    warnings = []
    for (dataset, model, latent), group in groups(runs).items():
        settings = {json.dumps({"model": run.config["model"], "train": {
            key: value for key, value in run.config["train"].items()
            if key not in _REPEAT_FIELDS}}, sort_keys=True) for run in group}
        if len(settings) > 1:
            warnings.append(f"runs of {dataset} / {model} / latent {latent} differ in more "
                            f"than the seed: {', '.join(run.workdir for run in group)}")
    return warnings
