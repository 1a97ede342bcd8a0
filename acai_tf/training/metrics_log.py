"""A run's scalar history as JSON lines: `W/metrics.jsonl`, one line per training report.

    {"step": 700, "kimg": 43.75, "losses/autoencoder": 0.0123, "eval/mean_distance": 0.0051, ...}

Every report appends one line holding the step, kimg and every scalar it logged (the same values
as TensorBoard's). Tables and medians read this file instead of TensorBoard's event protos.

A run resumed after a crash repeats the reports made after its last checkpoint, so a step may
appear twice: `read` keeps the last line of each step. A line cut short by a kill mid-write is
skipped. Non-finite values are written as null (strict JSON) and read back as NaN.
"""

from __future__ import annotations

import json
import math
import os
from typing import Mapping

from acai_tf import errors
from acai_tf.outputs.strict_json import finite_or_none

FILENAME = "metrics.jsonl"


def path(workdir: str) -> str:
    return os.path.join(workdir, FILENAME)


def append(workdir: str, step: int, kimg: float, scalars: Mapping[str, float]) -> None:
    """Appends one report's line (flushed and synced, so a reader sees whole lines).

    A failed write (no space left, ...) raises StorageError naming the file; a line it cut
    short is ended before the next one, so that it costs only itself.
    """
    record = {"step": int(step), "kimg": float(kimg)}
    record.update({key: finite_or_none(float(value)) for key, value in sorted(scalars.items())
                   if key not in record})
    with errors.saving(path(workdir)):
        os.makedirs(workdir, exist_ok=True)
        with open(path(workdir), "a+b") as f:
            if f.seek(0, os.SEEK_END):
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    f.write(b"\n")  # writes in append mode go to the end, wherever we read
            f.write((json.dumps(record, allow_nan=False) + "\n").encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())


def read(workdir: str) -> list[dict[str, float]]:
    """The reports in step order, the last line of each step kept; [] without a file."""
    try:
        with open(path(workdir), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    by_step: dict[int, dict[str, float]] = {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the tail of a write interrupted by a kill
        if not isinstance(record, dict) or "step" not in record:
            continue
        by_step[int(record["step"])] = {
            key: math.nan if value is None else value for key, value in record.items()}
    return [by_step[step] for step in sorted(by_step)]


def series(records: list[dict[str, float]], key: str) -> list[float]:
    """The values of `key` in step order, over the reports that logged it."""
    return [record[key] for record in records if key in record]
