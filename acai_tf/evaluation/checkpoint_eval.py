"""Evaluating one checkpoint of a training workdir: the `evaluate` binary's library.

    results = checkpoint_eval.evaluate("/tmp/run")    # latest checkpoint, paper settings

The evaluations that apply follow from the dataset alone (`suite.applicable_parts`), and each
runs its protocol as `protocols` encodes it: "lines" (256 interpolations of 16 steps between
the first 256 and the next 256 test lines, drawn with `seed`), "classifier" (the in-training
classifier's test accuracy and a softmax probe on frozen train latents), "clustering" (K-means
on the first 60,000 train latents, `n_init` restarts). A dataset without labels (celeba32, a
flat "folder:" dataset) gets the figure only, and a one-line note says what was skipped.

Outputs, in `workdir/eval/`: results.json (see `evaluate`; accuracies in %) and
interpolation.png (rows of real input A, decoded interpolation, real input B); and TensorBoard
scalars `eval/...` in `workdir/tb/eval` at the checkpoint's step.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from acai_tf import datasets
from acai_tf.outputs import images, strict_json
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.config import ConfigError
from acai_tf.datasets import DatasetInfo
from acai_tf.evaluation import protocols, representation, results as results_lib, suite
from acai_tf.evaluation.runner import ModelRunner
from acai_tf.outputs.workdir import WorkdirError


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

    # Tables 2 and 3: the probe's and K-means' seed and sizes.
    seed: int = 0
    n_init: int = 1000
    max_train_examples: int = 60_000
    # Model calls.
    batch_size: int = 1000
    # Table 1 and the figure.
    lines_pairs: int = 256
    lines_steps: int = 16
    figure_rows: int = 8
    figure_steps: int = 16
    # What is read and which parts run.
    data_dir: str | None = None
    parts: tuple[str, ...] | None = None


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
        "mean_smoothness"} or None, "classifier": {"in_training_accuracy", "probe_accuracy" and
        "probe_implementation" (what fit the probe; both absent without a finite train split)}
        or None, "clustering": {"accuracy", "n_init", "train_examples"} or None,
        "wall_time_s": {part: seconds, "total"}}. A part that does not apply is None.
        Accuracies are in %; a metric that came out NaN is None.

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
    unknown = sorted(set(options.parts or ()) - set(suite.PARTS))
    if unknown:
        raise ConfigError(f"unknown evaluation(s) {', '.join(unknown)}; known: "
                          f"{', '.join(suite.PARTS)}")
    shown = checkpoint or workdir_lib.latest_checkpoint(workdir)
    datasets.check_prepared(info.name, data_dir, image_size=info.image_size)
    try:
        model, config, path, step = workdir_lib.restore_model(workdir, checkpoint)
    except (AssertionError, ValueError, tf.errors.OpError) as error:
        # A checkpoint written by another config: say so in one line, not a traceback.
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise WorkdirError(f"cannot restore {shown} into the model of "
                           f"{workdir_lib.config_path(workdir)}: {first_line}") from None
    parts = [part for part in suite.applicable_parts(info) if part in (options.parts or
                                                                      suite.PARTS)]
    times = {"restore": time.monotonic() - start}
    log(f"evaluating {config.model.name} on {info.name} at step {step} ({path}): "
        f"{', '.join(parts) or 'figure only'}")
    for note in suite.skip_notes(info, options.parts):
        log(note)
    results: dict[str, Any] = {
        "dataset": info.name, "model": config.model.name, "latent_dim": model.latent_dim,
        "hparams": model.hp.to_dict(), "train_seed": config.train.seed,
        "checkpoint": os.path.relpath(path, workdir), "step": step,
        "kimg": step * config.train.batch / 1024, "seed": options.seed,
        "lines": None, "classifier": None, "clustering": None, "wall_time_s": times}

    def timed(name: str, function: Callable[[], Any]) -> Any:
        begin = time.monotonic()
        value = function()
        times[name] = time.monotonic() - begin
        log(f"  {name}: {_describe(value)} ({times[name]:.1f} s)")
        return value

    runner, o = ModelRunner(model), options
    if "lines" in parts:
        results["lines"] = timed("lines", lambda: _lines(runner, info, data_dir, o))
    if "classifier" in parts or "clustering" in parts:
        test = timed("encode_test", lambda: runner.encode(datasets.test_set(
            info.name, data_dir=data_dir, seed=o.seed, image_size=info.image_size),
            o.batch_size, with_predictions=True))
        train = (timed("encode_train", lambda: runner.encode(datasets.train_once(
            info.name, data_dir=data_dir, image_size=info.image_size).take(
                o.max_train_examples), o.batch_size, with_predictions=False))
                 if info.train_size is not None else None)
    if "classifier" in parts:
        results["classifier"] = {"in_training_accuracy": protocols.classifier_accuracy(test)}
        if train is not None:
            results["classifier"]["probe_accuracy"] = timed(
                "probe", lambda: protocols.probe_accuracy(train, test, info.nclass))
            results["classifier"][results_lib.PROBE_IMPLEMENTATION_KEY] = (
                representation.PROBE_IMPLEMENTATION)
    if "clustering" in parts:
        results["clustering"] = timed("clustering", lambda: protocols.clustering(
            train, test, info.nclass, n_init=o.n_init, seed=o.seed))
    timed("figure", lambda: images.write_png(results_lib.figure_path(workdir),
                                             _figure(runner, info, data_dir, o)))
    times["total"] = time.monotonic() - start
    results = strict_json.finite_or_none(results)
    results_lib.write(workdir, results)
    _write_tensorboard(workdir, step, results)
    return results


def _lines(runner: ModelRunner, info: DatasetInfo, data_dir: str | None,
           o: EvalOptions) -> dict[str, float]:
    test_images = protocols.first_test_images(info, data_dir, o.seed, 2 * o.lines_pairs)
    if len(test_images) < 2 * o.lines_pairs:
        raise ConfigError(f"lines benchmark needs {2 * o.lines_pairs} test images, the test set "
                          f"has {len(test_images)}")
    return protocols.lines_metrics(protocols.lines_interpolations(
        runner, test_images, o.lines_pairs, o.lines_steps, max(1, o.batch_size // o.lines_steps)))


def _figure(runner: ModelRunner, info: DatasetInfo, data_dir: str | None,
            o: EvalOptions) -> np.ndarray:
    # Lines: the rows are the first benchmark pairs (A = line i, B = line i + lines_pairs).
    offset = o.lines_pairs if info.has_lines_metric else o.figure_rows
    return protocols.interpolation_figure(
        runner, protocols.first_test_images(info, data_dir, o.seed, offset + o.figure_rows),
        rows=o.figure_rows, offset=offset, steps=o.figure_steps,
        pairs_per_call=max(1, o.batch_size // o.figure_steps))


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{key} {_describe(item)}" for key, item in value.items()
                        if not isinstance(item, np.ndarray)) or f"{len(value['labels'])} examples"
    if isinstance(value, float):
        return f"{value:.4g}"
    return "done" if value is None else str(value)


def _write_tensorboard(workdir: str, step: int, results: dict[str, Any]) -> None:
    path = os.path.join(workdir, workdir_lib.TENSORBOARD_DIR, "eval")
    writer = tf.summary.create_file_writer(path)
    with writer.as_default(step=step):
        for tag, value in results_lib.scalars(results).items():
            tf.summary.scalar(tag, value)
    writer.close()
