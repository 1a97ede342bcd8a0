"""The console's light progress line between two reports of a training run.

A long run may be paused (SIGSTOP) while other work on its machine is timed, or stopped and
resumed later; the line's rate and time left therefore follow the recent pace, so that neither
an old pause nor the start-up keeps weighing on them.
"""

from __future__ import annotations

import time
from typing import Callable

import keras

from acai_tf.training.callbacks import current_step, format_duration, scalar_logs


class Progress(keras.callbacks.Callback):
    """Prints a light progress line every `interval` seconds inside a report period.

    Its images/s is the training rate since the previous line (or the period's start), and time
    left goes at the wall time per step of the last whole period (evaluation included), so an
    old pause (SIGSTOP) or a slow start-up no longer weighs on either.
    """

    def __init__(self, batch: int, total_steps: int, interval: float = 30.0,
                 log: Callable[[str], None] = print):
        super().__init__()
        self.batch, self.total_steps, self.interval, self.log = batch, total_steps, interval, log
        self.period_start, self.seconds_per_step = None, None

    def on_epoch_begin(self, epoch, logs=None):
        now, step = time.monotonic(), current_step(self.model)
        if self.period_start and step > self.period_start[1]:
            self.seconds_per_step = (now - self.period_start[0]) / (step - self.period_start[1])
        self.period_start = self.last_line = (now, step)

    def on_train_batch_end(self, batch, logs=None):
        now, (then, then_step) = time.monotonic(), self.last_line
        if now - then < self.interval:
            return
        step = current_step(self.model)
        self.last_line = (now, step)
        rate = (step - then_step) * self.batch / max(now - then, 1e-9)
        left = (self.total_steps - step) * (self.seconds_per_step or self.batch / max(rate, 1e-9))
        losses = " ".join(f"{key.split('/')[-1]} {value:.4g}" for key, value in
                          scalar_logs(logs).items() if key.startswith("losses/"))
        self.log(f"  kimg {step * self.batch / 1024:.1f}/{self.total_steps * self.batch / 1024:.1f}"
                 f" | {rate:.0f} img/s, {format_duration(left)} left | {losses}")
