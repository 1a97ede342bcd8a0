"""The console lines' images/s and time left follow the recent pace, not the whole process's.

A long run may be paused (SIGSTOP) while other work is timed, or stopped and resumed later;
its lines must not go on reporting a rate diluted by an old pause or start-up. A fake clock and
a stand-in model drive the callbacks step by step.
"""

import re
import sys
import types

import numpy as np
import pytest

from acai_tf.training import callbacks, progress

BATCH, TOTAL = 64, 10_000
STEP_SECONDS = 0.1  # 640 images/s while training.


class FakeRun:
    """A model whose step counter and a clock that the test advances by hand."""

    def __init__(self, monkeypatch):
        self.now, self.step = 0.0, 0
        monkeypatch.setattr("time.monotonic", lambda: self.now)
        iterations = types.SimpleNamespace(numpy=lambda: np.int64(self.step))
        optimizer = types.SimpleNamespace(iterations=iterations, learning_rate=1e-4)
        self.model = types.SimpleNamespace(optimizer=optimizer,
                                           optimizers_by_role={"ae": optimizer})

    def train(self, callback, steps: int, logs=None) -> None:
        for _ in range(steps):
            self.now += STEP_SECONDS
            self.step += 1
            callback.on_train_batch_end(self.step, logs or {"losses/ae": np.float32(0.5)})


def parse(line: str) -> tuple[float, float]:
    """(images/s, seconds left) of a console line; time left over an hour is in whole minutes."""
    match = re.search(r"\| (\d+) img/s, (?:(\d+)h(\d\d)m|(\d+)m(\d\d)s) left", line)
    assert match, line
    hours, minutes_h, minutes, seconds = match.group(2, 3, 4, 5)
    left = (int(hours) * 3600 + int(minutes_h) * 60 if hours is not None
            else int(minutes) * 60 + int(seconds))
    return float(match.group(1)), float(left)


def test_progress_rate_forgets_a_pause_and_time_left_counts_whole_periods(monkeypatch):
    run = FakeRun(monkeypatch)
    lines = []
    printer = progress.Progress(BATCH, TOTAL, interval=30.0, log=lines.append)
    printer.set_model(run.model)
    printer.on_train_begin()
    run.now += 60.0  # Start-up (tracing): not training time of any line.
    printer.on_epoch_begin(0)
    run.train(printer, 400)  # 40 s: one line, 30 s in.
    assert len(lines) == 1
    rate, left = parse(lines[-1])
    assert rate == pytest.approx(640, abs=1)
    # No whole period yet: time left at the line's training rate.
    assert left == pytest.approx((TOTAL - 300) * STEP_SECONDS, abs=1)

    printer.on_epoch_end(0)
    run.now += 20.0  # The report's evaluation and checkpoint.
    printer.on_epoch_begin(1)
    # Time left from then on: the last period's wall time per step, evaluation included.
    per_step = (400 * STEP_SECONDS + 20.0) / 400
    count = len(lines)
    run.train(printer, 350)  # A line 30 s in, at step 700 (or 701: float clock).
    assert len(lines) == count + 1
    rate, left = parse(lines[-1])
    assert rate == pytest.approx(640, abs=1)
    assert left == pytest.approx((TOTAL - 700) * per_step, abs=1)

    count = len(lines)
    run.now += 600.0  # SIGSTOP, then SIGCONT ten minutes later.
    run.train(printer, 1)
    assert len(lines) == count + 1 and parse(lines[-1])[0] < 10  # The line across the pause.
    run.train(printer, 350)
    assert len(lines) == count + 2
    rate, _ = parse(lines[-1])
    assert rate == pytest.approx(640, abs=1)  # The next line is back at the training pace.


def test_report_time_left_uses_the_last_period_only(monkeypatch, tmp_path):
    run = FakeRun(monkeypatch)
    lines = []
    report = callbacks.Report(None, str(tmp_path), BATCH, TOTAL, chief=True, log=lines.append)
    report.set_model(run.model)
    report.on_train_begin()
    period = 1_000
    for epoch in range(3):
        report.on_epoch_begin(epoch)
        run.train(report, period)
        if epoch == 1:
            run.now += 3_600.0  # A pause inside the second period.
        report.on_epoch_end(epoch, {"losses/ae": np.float32(0.5)})
        run.now += 5.0  # The checkpoint after the report line.
    report.close()
    rates_and_left = [parse(line) for line in lines]
    assert len(rates_and_left) == 3
    # The paused period shows it in its own rate and time left...
    assert rates_and_left[1][0] < 20
    assert rates_and_left[1][1] == pytest.approx(
        (TOTAL - 2 * period) * (period * STEP_SECONDS + 5.0 + 3_600.0) / period, abs=60)
    # ...and the next report is back at its pace: training plus the previous checkpoint.
    assert rates_and_left[2][0] == pytest.approx(640, abs=1)
    assert rates_and_left[2][1] == pytest.approx(
        (TOTAL - 3 * period) * (period * STEP_SECONDS + 5.0) / period, abs=1)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
