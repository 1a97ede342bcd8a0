"""Evaluating a trained run: the paper's evaluations on one checkpoint of a workdir.

    results = eval_lib.evaluate("/tmp/run")          # latest checkpoint, paper settings

Which evaluations apply follows from the dataset alone (`applicable_parts`), never the model:
- "lines": the lines32 interpolation benchmark (spec 2.2): 256 interpolations of 16 steps
  between the codes of test lines A = the first 256 and B = the next 256 (drawn with `seed`),
  decoded raw, scored by mean distance and smoothness;
- "classifier" (labelled data, nclass > 1): test accuracy of the in-training latent classifier,
  as the paper's Table 2 reports it, and of a post-hoc softmax probe fit on frozen train latents;
- "clustering" (labelled data with a finite train split): K-means accuracy as the paper's
  Table 3 (spec 3.10): whitened train latents (the first 60,000 train examples), `n_init`
  restarts, Hungarian-matched accuracy on the test set.

A dataset without labels (celeba32, a flat "folder:" dataset) gets the figure only, and
`evaluate` logs a one-line note saying which evaluations it skipped (`skip_notes`).

Outputs, in `workdir/eval/`: results.json (see `evaluate` for its keys; accuracies in %) and
interpolation.png (rows of real input A, decoded interpolation, real input B); and TensorBoard
scalars `eval/...` in `workdir/tb/eval` at the checkpoint's step.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from acai_tf import atomic_write, datasets, figures
from acai_tf import workdir as workdir_lib
from acai_tf.config import ConfigError
from acai_tf.datasets import DatasetInfo
from acai_tf.evaluation import representation
# The datasets the lines metrics understand: defined once, for training reports and here.
from acai_tf.report_evals import LINE_METRIC_DATASETS
from acai_tf.workdir import WorkdirError

PARTS = ("lines", "classifier", "clustering")
RESULTS_FILENAME = "results.json"
FIGURE_FILENAME = "interpolation.png"


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """Settings of an evaluation; the defaults are the paper's protocol.

    Attributes:
        seed: draws the lines32 test lines and seeds the K-means initialisations.
        n_init: K-means restarts (the paper: 1000).
        max_train_examples: train latents for the probe and K-means (the paper: 60,000).
        batch_size: images per model call when encoding and decoding.
        lines_pairs, lines_steps: interpolations and images per interpolation of the benchmark.
        figure_rows, figure_steps: pairs and interpolants of interpolation.png.
        data_dir: tfds data directory; None uses the one in the run's config.
        parts: evaluations to run among those that apply; None runs all that apply.
    """

    seed: int = 0
    n_init: int = 1000
    max_train_examples: int = 60_000
    batch_size: int = 1000
    lines_pairs: int = 256
    lines_steps: int = 16
    figure_rows: int = 8
    figure_steps: int = 16
    data_dir: str | None = None
    parts: tuple[str, ...] | None = None


def applicable_parts(info: DatasetInfo) -> tuple[str, ...]:
    """The evaluations that make sense on a dataset (the one place this is decided)."""
    parts = []
    if info.name in LINE_METRIC_DATASETS:
        parts.append("lines")
    if info.nclass > 1:
        parts.append("classifier")
        if info.train_size is not None:  # K-means needs a finite set of train latents
            parts.append("clustering")
    return tuple(parts)


def skip_notes(info: DatasetInfo, requested: tuple[str, ...] | None = None) -> list[str]:
    """One line per kind of evaluation skipped for want of labels or lines, e.g. on a flat
    "folder:" dataset. A lines note only when the lines benchmark was asked for by name: every
    dataset but lines32 skips it, which needs no saying by default."""
    wanted = set(requested or PARTS)
    notes = []
    if info.nclass <= 1 and wanted & {"classifier", "clustering"}:
        notes.append(f"note: {info.name} has no labels; skipping the classifier, probe and "
                     "clustering evaluations")
    if requested and "lines" in wanted and "lines" not in applicable_parts(info):
        notes.append(f"note: {info.name} is not made of lines32 images; skipping the lines "
                     "benchmark")
    return notes


def results_path(workdir: str) -> str:
    return os.path.join(workdir, workdir_lib.EVAL_DIR, RESULTS_FILENAME)


def figure_path(workdir: str) -> str:
    return os.path.join(workdir, workdir_lib.EVAL_DIR, FIGURE_FILENAME)


def evaluate(workdir: str, *, checkpoint: str | None = None,
             options: EvalOptions = EvalOptions(),
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Evaluates a checkpoint of `workdir` and writes the results (see the module docstring).

    Args:
        workdir: a training workdir (config.json and ckpt/).
        checkpoint: a checkpoint path prefix; default the latest in `workdir/ckpt`.
        options: the evaluation settings.
        log: receives one progress line per evaluation.

    Returns:
        The content of results.json: {"dataset", "model", "latent_dim", "hparams",
        "train_seed", "checkpoint", "step", "kimg", "seed", "lines": {"mean_distance",
        "mean_smoothness"} or None, "classifier": {"in_training_accuracy", "probe_accuracy"
        (absent without a finite train split)} or None, "clustering": {"accuracy", "n_init",
        "train_examples"} or None, "wall_time_s": {part: seconds, "total"}}. A part that does
        not apply is None. Accuracies are in %; a metric that came out NaN is None.

    Raises:
        A UserError (ConfigError, WorkdirError, DatasetNotPreparedError) with a one-line
        message, before anything is written.
    """
    start = time.monotonic()
    config = workdir_lib.load_config(workdir)
    data_dir = options.data_dir or config.train.data_dir
    try:
        info = datasets.get_info(config.train.dataset, data_dir=data_dir,
                                 image_size=config.model.image_size)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    unknown = sorted(set(options.parts or ()) - set(PARTS))
    if unknown:
        raise ConfigError(f"unknown evaluation(s) {', '.join(unknown)}; known: {', '.join(PARTS)}")
    checkpoint = checkpoint or workdir_lib.latest_checkpoint(workdir)
    datasets.check_prepared(info.name, data_dir, image_size=info.image_size)
    try:
        model, config, path, step = workdir_lib.restore_model(workdir, checkpoint)
    except (AssertionError, ValueError, tf.errors.OpError) as error:
        # A checkpoint written by another config: say so in one line, not a traceback.
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise WorkdirError(f"cannot restore {checkpoint} into the model of "
                           f"{workdir_lib.config_path(workdir)}: {first_line}") from None
    parts = [part for part in applicable_parts(info) if part in (options.parts or PARTS)]
    times = {"restore": time.monotonic() - start}
    log(f"evaluating {config.model.name} on {info.name} at step {step} ({path}): "
        f"{', '.join(parts) or 'figure only'}")
    for note in skip_notes(info, options.parts):
        log(note)
    runner = _Runner(model, info, data_dir, options)
    results: dict[str, Any] = {
        "dataset": info.name, "model": config.model.name, "latent_dim": model.latent_dim,
        "hparams": model.hp, "train_seed": config.train.seed,
        "checkpoint": os.path.relpath(path, workdir), "step": step,
        "kimg": step * config.train.batch / 1024, "seed": options.seed,
        "lines": None, "classifier": None, "clustering": None, "wall_time_s": times}

    def timed(name: str, function: Callable[[], Any]) -> Any:
        begin = time.monotonic()
        value = function()
        times[name] = time.monotonic() - begin
        log(f"  {name}: {_describe(value)} ({times[name]:.1f} s)")
        return value

    if "lines" in parts:
        results["lines"] = timed("lines", runner.lines)
    if "classifier" in parts or "clustering" in parts:
        test = timed("encode_test", runner.encode_test)
        train = (timed("encode_train", runner.encode_train) if info.train_size is not None
                 else None)
    if "classifier" in parts:
        results["classifier"] = {"in_training_accuracy": 100.0 * float(
            np.mean(test["predictions"] == test["labels"]))}
        if train is not None:
            results["classifier"]["probe_accuracy"] = 100.0 * timed(
                "probe", lambda: representation.linear_probe_accuracy(
                    train["latents"], train["labels"], test["latents"], test["labels"],
                    info.nclass))
    if "clustering" in parts:
        accuracy = timed("clustering", lambda: representation.kmeans_accuracy(
            train["latents"], test["latents"], test["labels"], info.nclass,
            n_init=options.n_init, seed=options.seed))
        results["clustering"] = {"accuracy": 100.0 * accuracy, "n_init": options.n_init,
                                 "train_examples": len(train["labels"])}
    timed("figure", lambda: figures.write_png(figure_path(workdir), runner.figure()))
    times["total"] = time.monotonic() - start
    results = _finite_or_none(results)
    _write_results(workdir, results)
    _write_tensorboard(workdir, step, results)
    return results


class _Runner:
    """Batched model calls on one dataset (compiled once per input shape)."""

    def __init__(self, model, info: DatasetInfo, data_dir: str | None, options: EvalOptions):
        self.model, self.info, self.data_dir, self.options = model, info, data_dir, options
        spec = tf.TensorSpec([None, info.image_size, info.image_size, info.colors], tf.float32)
        self._encode = tf.function(lambda x: tf.reshape(model.encode(x), [tf.shape(x)[0], -1]),
                                   input_signature=[spec])
        self._encode_predict = tf.function(self._latents_and_predictions,
                                           input_signature=[spec])
        self._spec = spec
        self._interpolate: dict[int, Callable] = {}

    def _latents_and_predictions(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Flat latents [B, D] and the in-training classifier's argmax [B], with one encoding.

        Equals argmax(model.classify(images)), which would encode a second time.
        """
        latents = self.model.encode(images)
        logits = self.model.classifier(self.model.classifier_features(images, latents))
        return tf.reshape(latents, [tf.shape(images)[0], -1]), tf.argmax(logits, axis=-1)

    def test_images(self, count: int) -> np.ndarray:
        """The first `count` test images [count, S, S, C] (lines drawn with the seed)."""
        test = datasets.test_set(self.info.name, data_dir=self.data_dir, seed=self.options.seed,
                                 image_size=self.info.image_size)
        return np.stack([example["image"] for example in test.take(count).as_numpy_iterator()])

    def interpolations(self, ends_a: np.ndarray, ends_b: np.ndarray, steps: int) -> np.ndarray:
        """Decoded linear interpolations [N, steps, S, S, C], `batch_size` images per call."""
        if steps not in self._interpolate:  # one trace per step count, any number of pairs
            self._interpolate[steps] = tf.function(
                lambda a, b: self.model.interpolate(a, b, steps=steps),
                input_signature=[self._spec, self._spec])
        pairs = max(1, self.options.batch_size // steps)
        return np.concatenate([
            self._interpolate[steps](ends_a[i:i + pairs], ends_b[i:i + pairs]).numpy()
            for i in range(0, len(ends_a), pairs)])

    def lines(self) -> dict[str, float]:
        # Imported here so that the lines metrics are loaded only where they apply.
        from acai_tf.lines import metric as interpolation  # pylint: disable=import-outside-toplevel

        count = self.options.lines_pairs
        images = self.test_images(2 * count)
        if len(images) < 2 * count:
            raise ConfigError(f"lines benchmark needs {2 * count} test images, the test set "
                              f"has {len(images)}")
        return interpolation.line_metrics(
            self.interpolations(images[:count], images[count:], self.options.lines_steps))

    def encode_test(self) -> dict[str, np.ndarray]:
        test = datasets.test_set(self.info.name, data_dir=self.data_dir, seed=self.options.seed,
                                 image_size=self.info.image_size)
        return self._encode_all(test, with_predictions=True)

    def encode_train(self) -> dict[str, np.ndarray]:
        train = datasets.train_once(self.info.name, data_dir=self.data_dir,
                                    image_size=self.info.image_size)
        return self._encode_all(train.take(self.options.max_train_examples),
                                with_predictions=False)

    def _encode_all(self, dataset: tf.data.Dataset, with_predictions: bool
                    ) -> dict[str, np.ndarray]:
        """{"latents": float32 [N, D], "labels": int64 [N] (, "predictions": int64 [N])}."""
        chunks: dict[str, list[np.ndarray]] = {"latents": [], "labels": [], "predictions": []}
        batches = dataset.batch(self.options.batch_size).prefetch(tf.data.AUTOTUNE)
        for batch in batches:
            if with_predictions:
                latents, predictions = self._encode_predict(batch["image"])
                chunks["predictions"].append(predictions.numpy())
            else:
                latents = self._encode(batch["image"])
            chunks["latents"].append(latents.numpy())
            chunks["labels"].append(batch["label"].numpy())
        return {key: np.concatenate(values) for key, values in chunks.items() if values}

    def figure(self) -> np.ndarray:
        """interpolation.png: rows of [input A | interpolation | input B], uint8."""
        rows = self.options.figure_rows
        # Lines: the first benchmark pairs (A = line i, B = line i + lines_pairs).
        half = self.options.lines_pairs if self.info.name in LINE_METRIC_DATASETS else rows
        images = self.test_images(half + rows)
        # A test set smaller than that (a small "folder:" dataset) wraps around, so that every
        # row still has two ends.
        images = np.resize(images, (half + rows,) + images.shape[1:])
        ends_a, ends_b = images[:rows], images[half:half + rows]
        return figures.interpolation_figure(
            ends_a[:rows], ends_b[:rows],
            self.interpolations(ends_a[:rows], ends_b[:rows], self.options.figure_steps))


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{key} {_describe(item)}" for key, item in value.items()
                        if not isinstance(item, np.ndarray)) or f"{len(value['labels'])} examples"
    if isinstance(value, float):
        return f"{value:.4g}"
    return "done" if value is None else str(value)


def _finite_or_none(value: Any) -> Any:
    """Replaces NaN and infinities by None (strict JSON), recursively."""
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _write_results(workdir: str, results: dict[str, Any]) -> None:
    path = results_path(workdir)
    with atomic_write.replacing(path) as f:
        json.dump(results, f, indent=2, sort_keys=True, allow_nan=False)
        f.write("\n")


def scalars(results: dict[str, Any]) -> dict[str, float]:
    """The TensorBoard scalars of results: eval/<metric> for every metric that was computed.

    Names match those the training reports write (eval/mean_distance, eval/mean_smoothness,
    eval/latent_accuracy), so train and eval curves overlay in TensorBoard.
    """
    sources = {
        "eval/mean_distance": ("lines", "mean_distance"),
        "eval/mean_smoothness": ("lines", "mean_smoothness"),
        "eval/latent_accuracy": ("classifier", "in_training_accuracy"),
        "eval/probe_accuracy": ("classifier", "probe_accuracy"),
        "eval/clustering_accuracy": ("clustering", "accuracy"),
    }
    values = {tag: (results.get(part) or {}).get(key) for tag, (part, key) in sources.items()}
    return {tag: value for tag, value in values.items() if value is not None}


def _write_tensorboard(workdir: str, step: int, results: dict[str, Any]) -> None:
    path = os.path.join(workdir, workdir_lib.TENSORBOARD_DIR, "eval")
    writer = tf.summary.create_file_writer(path)
    with writer.as_default(step=step):
        for tag, value in scalars(results).items():
            tf.summary.scalar(tag, value)
    writer.close()
