"""Tests of acai_tf.training.metrics_log: the per-run JSON-lines record of every report."""

import json
import math
import sys

import pytest

from acai_tf.training import metrics_log


def test_round_trip_keeps_step_order_and_every_scalar(tmp_path):
    metrics_log.append(str(tmp_path), 20, 1.25, {"losses/a": 0.5, "eval/x": 2.0})
    metrics_log.append(str(tmp_path), 40, 2.5, {"losses/a": 0.25})
    records = metrics_log.read(str(tmp_path))
    assert [r["step"] for r in records] == [20, 40]
    assert records[0] == {"step": 20, "kimg": 1.25, "losses/a": 0.5, "eval/x": 2.0}
    assert metrics_log.series(records, "eval/x") == [2.0]


def test_a_repeated_step_keeps_the_last_report_and_a_cut_line_is_skipped(tmp_path):
    workdir = str(tmp_path)
    metrics_log.append(workdir, 20, 1.0, {"v": 1.0})
    metrics_log.append(workdir, 40, 2.0, {"v": 2.0})   # lost with its checkpoint...
    metrics_log.append(workdir, 40, 2.0, {"v": 3.0})   # ...and redone after the resume
    with open(metrics_log.path(workdir), "a") as f:
        f.write('{"step": 60, "kimg": 3.0, "v"')       # killed mid-write
    records = metrics_log.read(workdir)
    assert [(r["step"], r["v"]) for r in records] == [(20, 1.0), (40, 3.0)]


def test_non_finite_values_are_strict_json_null_and_read_back_as_nan(tmp_path):
    metrics_log.append(str(tmp_path), 1, 0.1, {"eval/mean_smoothness": float("nan")})
    line = open(metrics_log.path(str(tmp_path))).read()
    assert json.loads(line)["eval/mean_smoothness"] is None
    assert math.isnan(metrics_log.read(str(tmp_path))[0]["eval/mean_smoothness"])


def test_missing_file_reads_as_no_reports(tmp_path):
    assert metrics_log.read(str(tmp_path / "nothing")) == []


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
