"""Keras callbacks of a training run: NaN and explosion guards, reports, checkpoints.

(The progress line between reports is `acai_tf.training.progress.Progress`.)

One fit() epoch is one report period (report_kimg). At the end of each epoch `Report` writes
the epoch's mean logs, throughput, learning rates, evaluations and image grids (TensorBoard
scalars and images, PNG files, one console line), then `Checkpointer` saves the model and every
optimizer. `NanGuard` stops training at the first non-finite log value and `ExplosionGuard` at a
finite loss blow-up (see `acai_tf.explosion`), both before that state can be saved: they run after
every step, so the last step of a period is judged before the period's checkpoint.

Under MultiWorkerMirroredStrategy the models return [1]-shaped logs (see `Autoencoder`), so log
values are read through `scalar_logs`.
"""

from __future__ import annotations

import glob
import math
import os
import shutil
import tempfile
import time
from typing import Callable, Mapping

import keras
import numpy as np
import tensorflow as tf

from acai_tf import errors, explosion
from acai_tf.outputs import images, workdir as workdir_lib
from acai_tf.training import metrics_log
from acai_tf.errors import UserError


class NonFiniteLossError(UserError, RuntimeError):
    """Training produced a NaN or infinite log value; the message is one line."""


class LossExplosionError(UserError, RuntimeError):
    """A loss rose far above its recent level (see `acai_tf.explosion`); the message is one line."""


def scalar_logs(logs: Mapping[str, object] | None) -> dict[str, float]:
    """Log values as floats; [1]-shaped (or per-replica) values are averaged."""
    return {key: float(np.mean(np.asarray(value, np.float64))) for key, value in
            (logs or {}).items()}


def current_step(model) -> int:
    return int(model.optimizer.iterations.numpy())


def learning_rates(model) -> dict[str, float]:
    """{`monitors/lr_<role>`: value} for every optimizer of the model (e.g. lr_ae, lr_critic)."""
    return {f"monitors/lr_{role}": float(np.asarray(optimizer.learning_rate))
            for role, optimizer in model.optimizers_by_role.items()}


def format_duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class NanGuard(keras.callbacks.Callback):
    """Raises NonFiniteLossError after the first step whose logs hold a NaN or an infinity."""

    def on_train_batch_end(self, batch, logs=None):
        values = scalar_logs(logs)
        # Losses first: they are the usual culprit and what the message should name.
        for key in sorted(values, key=lambda k: (not k.startswith("losses/"), k)):
            if not math.isfinite(values[key]):
                raise NonFiniteLossError(
                    f"non-finite {key} at step {current_step(self.model)}")


class ExplosionGuard(keras.callbacks.Callback):
    """Raises LossExplosionError after the first step at which `explosion.ExplosionRule` trips.

    Args:
        factor: the rule's factor (> 1); `explosion.DEFAULT_FACTOR` unless studied otherwise.
        floor, window, history: the rule's other settings (module defaults).
    """

    def __init__(self, factor: float = explosion.DEFAULT_FACTOR, **rule_settings):
        super().__init__()
        self.rule = explosion.ExplosionRule(factor, **rule_settings)
        self.steps = explosion.StepValues()

    def on_epoch_begin(self, epoch, logs=None):
        self.steps.reset()  # fit() resets the running means at each epoch.

    def on_train_batch_end(self, batch, logs=None):
        self.rule.update(self.steps.update(scalar_logs(logs)))
        trip = self.rule.check()
        if trip is not None:
            raise LossExplosionError(
                f"{trip.key} exploded at step {current_step(self.model)}: mean "
                f"{trip.level:.4g} over the last {self.rule.window} steps, above "
                f"{self.rule.factor:g} x its reference level {trip.reference:.4g} + "
                f"{self.rule.floor:g}; nothing was saved after the blow-up (the check is "
                "--explosion_factor, 0 turns it off)")


class StopAtStep(keras.callbacks.Callback):
    """Ends training after `total_steps` optimizer steps (mid-epoch if need be)."""

    def __init__(self, total_steps: int):
        super().__init__()
        self.total_steps = total_steps

    def on_train_batch_end(self, batch, logs=None):
        if current_step(self.model) >= self.total_steps:
            self.model.stop_training = True


class Report(keras.callbacks.Callback):
    """End-of-period reporting: scalars, evaluations, image grids, one console line.

    Args:
        evaluator: an `evaluation.training_eval.TrainingEvaluations` (or None for no
            evaluations or grids).
        workdir: the run's workdir (TensorBoard under tb/train, PNGs under images/, one line
            per report in metrics.jsonl).
        batch, total_steps: the global batch and the run's length in steps.
        chief: only the chief writes files and prints; other workers only keep the logs.
        log: where the console line goes.
    """

    def __init__(self, evaluator, workdir: str, batch: int, total_steps: int, chief: bool = True,
                 log: Callable[[str], None] = print):
        super().__init__()
        self.evaluator, self.workdir, self.chief, self.log = evaluator, workdir, chief, log
        self.batch, self.total_steps = batch, total_steps
        self.last: dict[str, float] = {}
        self.writer = None

    def on_train_begin(self, logs=None):
        self.last_report = (time.monotonic(), current_step(self.model))
        if self.chief and self.writer is None:
            path = os.path.join(self.workdir, workdir_lib.TENSORBOARD_DIR, "train")
            self.writer = tf.summary.create_file_writer(path)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_time, self.epoch_step = time.monotonic(), current_step(self.model)

    def on_epoch_end(self, epoch, logs=None):
        step = current_step(self.model)
        now = time.monotonic()
        kimg = step * self.batch / 1024
        scalars = scalar_logs(logs)
        scalars["monitors/images_per_second"] = (
            (step - self.epoch_step) * self.batch / max(now - self.epoch_time, 1e-9))
        scalars["monitors/kimg"] = kimg
        scalars.update(learning_rates(self.model))
        if self.chief:
            grids = {}
            if self.evaluator is not None:
                scalars.update(self.evaluator.scalars())
                grids = self.evaluator.grids()
            self._write(step, kimg, scalars, grids)
        self.last = scalars
        if self.chief:
            # Time left at this period's pace, evaluations included (an earlier pause is forgotten).
            since, since_step = self.last_report
            left = ((self.total_steps - step) * (time.monotonic() - since)
                    / max(step - since_step, 1))
            values = " ".join(f"{key} {value:.4g}" for key, value in sorted(scalars.items())
                              if key.startswith(("losses/", "eval/")))
            self.log(f"kimg {kimg:.1f}/{self.total_steps * self.batch / 1024:.1f} step {step}"
                     f" | {scalars['monitors/images_per_second']:.0f} img/s, "
                     f"{format_duration(left)} left | {values}")
        self.last_report = (time.monotonic(), step)

    def _write(self, step: int, kimg: float, scalars: dict, grids: dict) -> None:
        pictures = {name: images.to_uint8(grid) for name, grid in grids.items()}
        with self.writer.as_default(step=step):
            for key, value in scalars.items():
                tf.summary.scalar(key, value)
            for name, picture in pictures.items():
                tf.summary.image(f"images/{name}", picture[None])
        self.writer.flush()
        metrics_log.append(self.workdir, step, kimg, scalars)
        images_dir = os.path.join(self.workdir, workdir_lib.IMAGES_DIR)
        for name, picture in pictures.items():
            images.write_png(os.path.join(images_dir, images.png_name(name, kimg)), picture)

    def on_train_end(self, logs=None):
        self.close()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class Checkpointer(keras.callbacks.Callback):
    """Saves `checkpoint` as ckpt-<step> at the end of every period.

    Every worker must take part in a save under MultiWorkerMirroredStrategy; non-chief workers
    write to a temporary directory that is deleted at once.
    """

    def __init__(self, checkpoint: tf.train.Checkpoint, workdir: str, chief: bool = True,
                 saved_step: int | None = None):
        super().__init__()
        self.checkpoint, self.workdir, self.chief = checkpoint, workdir, chief
        self.manager = workdir_lib.checkpoint_manager(workdir, checkpoint) if chief else None
        self.saved_step = saved_step

    def on_epoch_end(self, epoch, logs=None):
        self.save(current_step(self.model))

    def save(self, step: int) -> None:
        """Saves unless `step` was the last one saved (the same decision on every worker)."""
        if step == self.saved_step:
            return
        self.saved_step = step
        if self.chief:
            # A failed save (disk full, read-only folder) leaves the previous checkpoint and the
            # state file naming it as they were: the same command resumes from there.
            prefix = os.path.join(self.manager.directory,
                                  f"{workdir_lib.CHECKPOINT_PREFIX}-{step}")
            try:
                with errors.saving(prefix):
                    self.manager.save(checkpoint_number=step)
            except errors.StorageError:
                # TensorFlow writes into `<prefix>_temp/` first and leaves it behind on failure.
                for scratch in glob.glob(glob.escape(prefix) + "_temp*"):
                    shutil.rmtree(scratch, ignore_errors=True)
                raise
            return
        scratch = tempfile.mkdtemp(prefix="ckpt-worker-")
        try:
            workdir_lib.checkpoint_manager(scratch, self.checkpoint).save(checkpoint_number=step)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
