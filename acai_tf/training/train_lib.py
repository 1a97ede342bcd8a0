"""Training a model from an ExperimentConfig into a workdir, resumable and crash-safe.

    summary = train_lib.train(config, "/tmp/run")

Everything that can be wrong with the request is checked before anything is written: the
dataset must be known and prepared, and a workdir that already holds a different config is
refused untouched. The same config (up to the fields in RESUMABLE_FIELDS) resumes from the
latest checkpoint with the same step and optimizer state; the data stream is then reseeded from
(seed, step) so that a resumed run does not replay the batches it has already seen.

One `fit()` covers the whole run (the train step is traced once); each epoch is one report period
of report_kimg, ended by evaluations, summaries and a checkpoint (see `acai_tf.training.callbacks`).
A run whose losses turn non-finite or explode stops before saving the wrecked model.

One process trains in a workdir at a time: the chief holds the workdir's lock (see
`workdir.locked`) from before its first write to the end, and a second run is refused at once.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from typing import Any, Callable, Sequence

import numpy as np
import tensorflow as tf

from acai_tf import datasets, models
from acai_tf.config import ConfigError, ExperimentConfig
from acai_tf.evaluation.training_eval import EvalSettings, TrainingEvaluations
from acai_tf.outputs import checkpoints
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.speed import fast_conv
from acai_tf.training import callbacks as callbacks_lib
from acai_tf.training import distribute, machine, progress, tensorboard_hparams
from acai_tf.training.callbacks import LossExplosionError, NonFiniteLossError

__all__ = ["EvalSettings", "LossExplosionError", "NonFiniteLossError", "RESUMABLE_FIELDS",
           "train", "validate"]

# TrainConfig fields a resumed run may change: the length and cadence of the run, where and how
# fast it runs, and when it is stopped as broken; none changes what a training step computes.
# The precision may also change, between the two of SWITCHABLE_PRECISIONS only (see validate).
RESUMABLE_FIELDS = ("train_kimg", "report_kimg", "data_dir", "strategy", "conv_gradient",
                    "explosion_factor", "precision")
# Precisions whose checkpoints are alike: variables and optimizer slots are float32 in both, so
# a run may go on in the other one (e.g. bfloat16 compute where the CPU has it natively, float32
# where it would be ten times slower). Each start records its precision (run_record), and the
# step rounds differently from there on. mixed_float16 also keeps a loss scale: no switching.
SWITCHABLE_PRECISIONS = ("float32", "mixed_bfloat16")


def validate(config: ExperimentConfig, workdir: str) -> None:
    """Checks a training request without side effects; raises a UserError (ConfigError, ...)."""
    train_config = config.train
    try:
        info = datasets.get_info(train_config.dataset, data_dir=train_config.data_dir)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    model = config.model
    expected = {"image_size": info.image_size, "colors": info.colors, "nclass": info.nclass}
    wrong = [f"{key} {getattr(model, key)} (dataset: {value})" for key, value in expected.items()
             if getattr(model, key) != value]
    if wrong:
        raise ConfigError(f"model config does not fit dataset {info.name!r}: {', '.join(wrong)}")
    try:
        models.get(model.name).resolve_hparams(model.hparams)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if train_config.seed < 0:
        raise ConfigError(f"seed must be non-negative, got {train_config.seed}")
    if train_config.strategy not in distribute.STRATEGIES:
        raise ConfigError(f"unknown strategy {train_config.strategy!r}; known: "
                          f"{', '.join(distribute.STRATEGIES)}")
    datasets.check_prepared(train_config.dataset, train_config.data_dir)
    workdir_lib.check_config(workdir, config, resumable=RESUMABLE_FIELDS)
    saved = saved_precision(workdir)
    if saved not in (None, train_config.precision) and not {
            saved, train_config.precision} <= set(SWITCHABLE_PRECISIONS):
        raise ConfigError(f"workdir {workdir} trained in {saved}, not {train_config.precision}: "
                          f"a run switches between {' and '.join(SWITCHABLE_PRECISIONS)} only "
                          "(mixed_float16 checkpoints hold a loss scale)")


def saved_precision(workdir: str) -> str | None:
    """The precision the run in `workdir` last trained in (None for a new workdir)."""
    try:
        return workdir_lib.load_config(workdir).train.precision
    except workdir_lib.WorkdirError:
        return None


def run_record(config: ExperimentConfig, strategy: tf.distribute.Strategy,
               conv_gradient: str) -> dict[str, Any]:
    """How this (re)start runs: what it ran on and the choices made for that machine.

    Kept beside the config, not in it: a resumed run may run on another machine.
    """
    description = machine.describe()
    return {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "commit": machine.source_commit(),
            "conv_gradient": conv_gradient, "precision": config.train.precision,
            "replicas": strategy.num_replicas_in_sync, "strategy": type(strategy).__name__,
            **{key: description[key] for key in ("cpu", "cpu_flags", "onednn", "gpus", "host",
                                                   "tensorflow", "keras")}}


def data_seed(seed: int, step: int) -> int:
    """Seed of the data stream of a run (re)started at `step`: the run's seed at step 0."""
    if step == 0:
        return seed
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0])


def train(config: ExperimentConfig, workdir: str, *,
          eval_settings: EvalSettings | None = EvalSettings(),
          strategy: tf.distribute.Strategy | None = None,
          extra_callbacks: Sequence[Any] = (), progress_seconds: float = 30.0,
          log: Callable[[str], None] = print) -> dict[str, Any]:
    """Trains (or resumes) the run `config` in `workdir` up to config.train.total_steps.

    Args:
        config: the experiment; image_size, colors and nclass must match the dataset.
        workdir: the run's directory (see `acai_tf.outputs.workdir` for its layout).
        eval_settings: sizes of the report evaluations; None skips evaluations and grids.
        strategy: an existing strategy to use instead of creating config.train.strategy (one
            process should not create several collective strategies over the same devices).
        extra_callbacks: more Keras callbacks for fit(), after the run's own.
        progress_seconds: period of the in-report progress lines.
        log: receives the console lines (only the chief's).

    Returns:
        {"step": final step, "kimg": images seen / 1024, "metrics": the last report's scalars
         (mean logs, monitors, eval/...), "wall_time_s": this call's duration,
         "resumed_from": the step training started from}.

    Raises:
        A UserError with a one-line message: WorkdirError at once if another process
        is training in `workdir`.
    """
    start = time.monotonic()
    validate(config, workdir)
    strategy = strategy or distribute.get_strategy(config.train.strategy)
    distribute.check_global_batch(strategy, config.train.batch)
    chief = distribute.is_chief(strategy)
    conv_gradient = fast_conv.resolve(config.train.conv_gradient)
    with contextlib.ExitStack() as stack:
        if chief:
            # Workers write nothing into the workdir but checkpoints, which the chief's run
            # coordinates; the chief alone stands for the run (and records it).
            stack.enter_context(workdir_lib.locked(workdir))
            # config.json first (evaluate and export rebuild from it); this start's record is
            # added once it is known to train (a finished run's rerun records nothing).
            previous_precision = saved_precision(workdir)
            workdir_lib.write_config(workdir, config)
            if previous_precision not in (None, config.train.precision):
                log(f"precision changes from {previous_precision} to {config.train.precision} "
                    "(the variables and optimizer state stay float32)")
            record = run_record(config, strategy, conv_gradient)
            log(f"precision {config.train.precision}, {conv_gradient} conv gradients (oneDNN "
                f"{'on' if record['onednn'] else 'off'}, CPU flags "
                f"{' '.join(record['cpu_flags']) or 'none listed'}, {record['gpus']} GPU(s))")
        with fast_conv.creating(conv_gradient):
            return _train(config, workdir, strategy, chief, start,
                          record=record if chief else None, eval_settings=eval_settings,
                          extra_callbacks=extra_callbacks, progress_seconds=progress_seconds,
                          log=log)


def _train(config: ExperimentConfig, workdir: str, strategy: tf.distribute.Strategy,
           chief: bool, start: float, *, record: dict[str, Any] | None,
           eval_settings: EvalSettings | None,
           extra_callbacks: Sequence[Any], progress_seconds: float,
           log: Callable[[str], None]) -> dict[str, Any]:
    """The body of `train` once the request is valid and the workdir is this process's."""
    train_config = config.train
    with strategy.scope():
        model = models.build(config.model, seed=train_config.seed,
                             precision=train_config.precision)
        model.compile()
        checkpoint = tf.train.Checkpoint(**model.checkpoint_items())
        # A damaged newest checkpoint costs one report period: the chief sets it aside.
        latest = checkpoints.resume_point(workdir_lib.checkpoint_dir(workdir),
                                          move_damaged=chief, log=log if chief else _silent)
        if latest:
            checkpoint.restore(latest).assert_existing_objects_matched()
    step = callbacks_lib.current_step(model)
    total = train_config.total_steps
    checkpointer = callbacks_lib.Checkpointer(checkpoint, workdir, chief,
                                              saved_step=step if latest else None)
    summary = {"step": step, "kimg": step * train_config.batch / 1024, "metrics": {},
               "resumed_from": step}
    if step >= total:
        if chief:
            log(f"{workdir} is already trained to step {step} (train_kimg "
                f"{train_config.train_kimg} is {total} steps)")
        return {**summary, "wall_time_s": time.monotonic() - start}
    if chief:
        workdir_lib.write_config(workdir, config, {**record, "from_step": step})
        log(f"{'resuming' if step else 'training'} {config.model.name} on "
            f"{train_config.dataset} in {workdir} from step {step} to {total} "
            f"({strategy.num_replicas_in_sync} replica(s), {type(strategy).__name__})")
        # The run's row on TensorBoard's HParams dashboard, beside its report scalars.
        tensorboard_hparams.write_session(
            os.path.join(workdir, workdir_lib.TENSORBOARD_DIR, "train"), config,
            trial_id=os.path.abspath(workdir))
    evaluator = (TrainingEvaluations(model, config, eval_settings)
                 if eval_settings is not None and chief else None)
    report = callbacks_lib.Report(evaluator, workdir, train_config.batch, total, chief,
                                  log=log)
    guards = [callbacks_lib.NanGuard()]
    if train_config.explosion_factor:
        guards.append(callbacks_lib.ExplosionGuard(train_config.explosion_factor))
    # The guards come first: they must raise before Report and Checkpointer see a bad step.
    fit_callbacks = [*guards, callbacks_lib.StopAtStep(total),
                     progress.Progress(train_config.batch, total, progress_seconds,
                                       log=log if chief else _silent),
                     report, checkpointer, *extra_callbacks]
    per_report = train_config.steps_per_report
    initial_epoch = step // per_report
    try:
        model.fit(_data(config, step),
                  epochs=initial_epoch + math.ceil((total - step) / per_report),
                  initial_epoch=initial_epoch, steps_per_epoch=per_report,
                  callbacks=fit_callbacks, verbose=0, shuffle=False)
    finally:
        report.close()  # fit() skips on_train_end when a callback raises (e.g. a guard).
    step = callbacks_lib.current_step(model)
    checkpointer.save(step)
    return {"step": step, "kimg": step * train_config.batch / 1024, "metrics": report.last,
            "wall_time_s": time.monotonic() - start, "resumed_from": summary["resumed_from"]}


def _data(config: ExperimentConfig, step: int) -> tf.data.Dataset:
    train_config = config.train
    stream = datasets.train_stream(train_config.dataset, batch_size=train_config.batch,
                                   seed=data_seed(train_config.seed, step),
                                   data_dir=train_config.data_dir)
    # Every worker reads the whole stream and keeps its share of each batch: the streams are
    # not file-sharded (lines32 is procedural; small tfds datasets have one file).
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return stream.with_options(options)


def _silent(line: str) -> None:
    del line
