"""A run's evaluation record: W/eval/results.json and W/eval/interpolation.png.

results.json is written by `checkpoint_eval.evaluate` (see it for the keys) as strict JSON (an
undefined metric is null) and read by the paper tables; nothing here needs TensorFlow.
"""

from __future__ import annotations

import json
import os
from typing import Any

from acai_tf.outputs import atomic_write, strict_json
from acai_tf.outputs import workdir as workdir_lib

RESULTS_FILENAME = "results.json"
FIGURE_FILENAME = "interpolation.png"
# The field of results["classifier"] naming what fit the linear probe
# (`representation.PROBE_IMPLEMENTATION`), and what fit the probes of results written before it.
PROBE_IMPLEMENTATION_KEY = "probe_implementation"
LEGACY_PROBE_IMPLEMENTATION = "hand-written softmax under scipy L-BFGS"
# TensorBoard tag of each metric: the names the training reports use (eval/mean_distance,
# eval/mean_smoothness, eval/latent_accuracy), so that train and eval curves overlay.
_SCALARS = {
    "eval/mean_distance": ("lines", "mean_distance"),
    "eval/mean_smoothness": ("lines", "mean_smoothness"),
    "eval/long_way_fraction": ("lines", "long_way_fraction"),
    "eval/latent_accuracy": ("classifier", "in_training_accuracy"),
    "eval/probe_accuracy": ("classifier", "probe_accuracy"),
    "eval/clustering_accuracy": ("clustering", "accuracy"),
}


def results_path(workdir: str) -> str:
    return os.path.join(workdir, workdir_lib.EVAL_DIR, RESULTS_FILENAME)


def figure_path(workdir: str) -> str:
    return os.path.join(workdir, workdir_lib.EVAL_DIR, FIGURE_FILENAME)


def write(workdir: str, results: dict[str, Any]) -> None:
    """Writes results.json atomically; non-finite values become null."""
    with atomic_write.replacing(results_path(workdir)) as f:
        f.write(strict_json.dumps(results, indent=2, sort_keys=True) + "\n")


def read(workdir: str) -> dict[str, Any] | None:
    """The run's results.json, or None when it has none.

    Raises:
        OSError, ValueError: the file exists but cannot be read or parsed.
    """
    path = results_path(workdir)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def scalars(results: dict[str, Any]) -> dict[str, float]:
    """{eval/<metric>: value} for every metric of results that was computed."""
    values = {tag: (results.get(part) or {}).get(key) for tag, (part, key) in _SCALARS.items()}
    return {tag: value for tag, value in values.items() if value is not None}


def probe_implementation(results: dict[str, Any]) -> str | None:
    """What fit the results' linear probe: its recorded name, LEGACY_PROBE_IMPLEMENTATION for a
    probe accuracy written before the name was recorded, None without a probe accuracy."""
    classifier = results.get("classifier") or {}
    if "probe_accuracy" not in classifier:
        return None
    return classifier.get(PROBE_IMPLEMENTATION_KEY, LEGACY_PROBE_IMPLEMENTATION)


def missing_metrics(results: dict[str, Any], parts: tuple[str, ...] | None) -> list[str]:
    """The eval/<metric> tags of `parts` (None: every part) that results lacks; a metric kept
    as null (NaN) counts as present. Results written before a metric was added lack it."""
    return [tag for tag, (part, key) in _SCALARS.items()
            if (parts is None or part in parts) and key not in (results.get(part) or {})]
