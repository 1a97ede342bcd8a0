"""The demo binary end to end on a tiny budget: plan, training, scores next to pixel blending,
figure, export, a fresh process answering from the export, and where everything is."""

import subprocess
import sys
from pathlib import Path

import pytest

import python_process
from acai_tf.training import machine
from acai_tf.cli import demo

# Not resolved: under Bazel this is the runfiles tree, which holds flags/ and acai_tf/.
REPO_ROOT = Path(__file__).absolute().parents[1]


def _demo(workdir: Path, onednn: str) -> subprocess.CompletedProcess:
    env = python_process.env(REPO_ROOT, TF_ENABLE_ONEDNN_OPTS=onednn)
    for variable in ("TF_CPP_MIN_LOG_LEVEL", "ACAI_TF_LOGS", "TF_CONFIG"):
        env.pop(variable, None)
    return subprocess.run([sys.executable, "-m", "flags.demo", f"--workdir={workdir}",
                           "--train_kimg=0.25", "--report_kimg=0.125"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def test_demo_trains_scores_exports_and_says_where_things_are(tmp_path):
    workdir = tmp_path / "demo"
    # oneDNN on: TensorFlow prints its start-up banner then, which must not reach the user.
    result = _demo(workdir, onednn="1")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    # The plan comes first, with what differs from the paper.
    assert out.startswith("ACAI demo: trains ACAI on lines32 for 0.25 kimg")
    avx512 = "avx512_vnni" in machine.cpu_flags()
    assert f"min on 2 CPU cores {'with' if avx512 else 'without'} AVX-512" in out.splitlines()[0]
    assert "learning rate 0.0005 (paper 0.0001)" in out
    # Scores: this run and pixel blending on the same 256 pairs, as Markdown rows.
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| 256 interpolations | mean distance")
    assert any(row.startswith("| ACAI (this run) | ") for row in rows)
    blend = next(row for row in rows if row.startswith("| Pixel blending | "))
    distance, smoothness = (float(cell) for cell in blend.strip("|").split("|")[1:3])
    # Pixel blending of random line pairs: ~6e-3 and ~0.88 (the reference values).
    assert 0.004 < distance < 0.009 and 0.8 < smoothness < 0.95
    assert "interpolate request answered from" in out and "images [1, 8, 32, 32, 1]" in out
    assert f"tensorboard --logdir {workdir / 'tb'}" in out
    assert (workdir / "demo_interpolations.png").stat().st_size > 0
    assert (workdir / "export" / "acai" / "1" / "saved_model.pb").exists()
    # stderr: nothing of TensorFlow's (its banner with oneDNN on, grappler's lines).
    assert "port.cc" not in result.stderr and "absl::InitializeLog" not in result.stderr


def test_the_time_estimate_depends_on_the_cpu_class_and_onednn():
    # Measured demo rates, evaluations included: 506-589 img/s with AVX-512 and oneDNN on;
    # without AVX-512, 99-130 img/s on a first Zen and 199-245 (oneDNN on) on a Zen 3-class
    # EPYC, whose whole demo took 13 min; every (class, oneDNN) pair has its own.
    assert set(demo.MEASURED_RATE) == {(True, True), (True, False), (False, True), (False, False)}
    fast = demo.estimated_minutes(160, True, True)
    assert fast[0] == fast[1] and 4 < fast[0] < 8
    assert demo.describe_minutes(fast) == f"about {round(fast[0])} min"
    zen3, first_zen = demo.estimated_minutes(160, False, True)
    assert 11 < zen3 < 15 and 20 < first_zen < 26
    assert demo.describe_minutes((zen3, first_zen)) == f"{round(zen3)} to {round(first_zen)} min"
    assert 25 < demo.estimated_minutes(160, False, False)[1] < 35
    assert demo.estimated_minutes(0, False, False) == (demo.EXTRA_MINUTES, demo.EXTRA_MINUTES)


def test_scores_table_rows_and_the_committed_columns():
    scores = {"ACAI (this run)": {"mean_distance": 0.0012345, "mean_smoothness": 0.31234},
              "Pixel blending": {"mean_distance": 0.0061, "mean_smoothness": float("nan")}}
    assert demo.scores_table(scores) == [
        "| 256 interpolations | mean distance (lower is better) | smoothness (lower is better) |",
        "|---|---|---|",
        "| ACAI (this run) | 0.001234 | 0.312 |",
        "| Pixel blending | 0.0061 | nan |"]
    # Beside a shipped model: the scores committed in its metrics.json ("n/a" where absent).
    committed = [{"mean_distance": 0.0012, "mean_smoothness": 0.3}, {}]
    assert demo.scores_table(scores, committed) == [
        "| 256 interpolations | mean distance (lower is better) | smoothness (lower is better) "
        "| in metrics.json: distance | smoothness |",
        "|---|---|---|---|---|",
        "| ACAI (this run) | 0.001234 | 0.312 | 0.0012 | 0.300 |",
        "| Pixel blending | 0.0061 | n/a | n/a | n/a |"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
