"""The shipped pretrained model, benchmarks/ship_pretrained.py and `acai-demo --pretrained`.

- The repository's model (pretrained/lines32_acai) still scores what its metrics.json says on
  the benchmark's 256 pairs: loose enough for oneDNN on or off, tight enough that another
  checkpoint would fail.
- ship_pretrained.py on a tiny trained lines32 ACAI run: what it writes (scores equal to the
  run's own report at that step), its refusals (an existing model without --overwrite, a run
  that is not lines32 ACAI), and a failure mid-ship leaving the old model as it was.
- `acai-demo --pretrained` on that tiny shipped model: the table and the figure.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from acai_tf import models
from acai_tf.training import train_lib
from acai_tf.evaluation.training_eval import TrainingEvaluations
from acai_tf.serving import pretrained

import python_process
import tiny

# Not resolved: under Bazel this is the runfiles tree, which holds benchmarks/ and pretrained/.
REPO_ROOT = Path(__file__).absolute().parents[1]
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import ship_pretrained  # noqa: E402  pylint: disable=wrong-import-position

SERVING_FILES = ("acai/1/saved_model.pb", "acai/1/variables/variables.index",
                 "acai/1/assets/config.json", "models.config", "metrics.json", "README.md")


def _scores(folder: str) -> dict:
    shipped = pretrained.load(folder)
    ends_a, ends_b = pretrained.benchmark_pairs(shipped.config)
    decoded = pretrained.interpolations(shipped.saved_model, ends_a, ends_b)
    return pretrained.lines_scores(ends_a, ends_b, decoded)["model"]


def test_the_shipped_model_scores_its_committed_metrics():
    folder = pretrained.default_folder()
    committed = pretrained.load(folder).metrics
    measured = _scores(folder)
    saved = committed["lines_benchmark"]["exported_model"]
    assert (committed["lines_benchmark"]["pairs"], committed["lines_benchmark"]["steps"]) == (
        256, 16)
    # Rounding differs with oneDNN on and off (~1e-8 relative here); another checkpoint of the
    # long run differs by several % in distance.
    assert measured["mean_distance"] == pytest.approx(saved["mean_distance"], rel=1e-3)
    # A matched angle flipping to a neighbour moves one interpolation's score of 256.
    assert measured["mean_smoothness"] == pytest.approx(saved["mean_smoothness"], abs=2 / 256)
    assert measured["long_way_fraction"] == pytest.approx(saved["long_way_fraction"],
                                                          abs=2 / 256)
    assert committed["config"]["model"]["name"] == "acai"
    assert committed["config"]["train"]["dataset"] == "lines32"
    assert "kimg budget" in committed["checkpoint"]["taken_at"] and committed["commits"]
    size = sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())
    assert size < 8e6  # Serving weights only: no optimizer slots, critic or checkpoints.


def test_benchmark_pairs_are_the_training_reports_pairs():
    config = tiny.experiment("acai", seed=3)
    pool = TrainingEvaluations(models.build(config.model, seed=3), config).pool
    ends_a, ends_b = pretrained.benchmark_pairs(config)
    np.testing.assert_array_equal(ends_a, pool[:256])
    np.testing.assert_array_equal(ends_b, pool[256:512])


@pytest.fixture(name="run", scope="module")
def fixture_run(tmp_path_factory) -> str:
    """A tiny lines32 ACAI run, 16 steps, one report (the benchmark's 256 pairs) at the end."""
    workdir = str(tmp_path_factory.mktemp("run") / "acai")
    train_lib.train(tiny.experiment("acai", report_kimg=0.25), workdir, log=lambda line: None)
    return workdir


def _ship(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "benchmarks/ship_pretrained.py", *args],
                          cwd=REPO_ROOT, env=python_process.env(REPO_ROOT), capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.fixture(name="shipped", scope="module")
def fixture_shipped(run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("shipped") / "lines32_acai"
    result = _ship(f"--workdir={run}", f"--out={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith(f"shipped {run} at 0.25 kimg of the run's 0.25 kimg budget")
    return out


def test_ship_writes_the_servable_model_and_its_records(run, shipped):
    assert all((shipped / name).is_file() for name in SERVING_FILES)
    # Nothing of training: no checkpoint, no optimizer, no scratch folder left beside it.
    assert not list(shipped.rglob("ckpt*")) and not list(shipped.rglob("*.lock"))
    assert [path.name for path in shipped.parent.iterdir()] == ["lines32_acai"]
    record = json.loads((shipped / "metrics.json").read_text())
    assert record["checkpoint"]["step"] == 16 and record["checkpoint"]["kimg"] == 0.25
    lines = record["lines_benchmark"]
    report = lines["training_report_at_this_step"]
    # The export, scored on the training reports' pairs, equals the run's own report (the tiny
    # model's smoothness is undefined, null, in both: it decodes one angle throughout).
    for key in ("mean_distance", "mean_smoothness", "long_way_fraction"):
        expected = report[f"eval/{key}"]
        assert lines["exported_model"][key] == (
            None if expected is None else pytest.approx(expected, rel=1e-4))
    assert 0.004 < lines["pixel_blending"]["mean_distance"] < 0.009
    assert record["training_medians"]["medians"]["eval/mean_distance"] == pytest.approx(
        report["eval/mean_distance"])
    assert record["config"]["model"]["depth"] == 4
    assert len(record["trained_by"]) == 1 and "onednn" in record["scored_on"]
    readme = " ".join((shipped / "README.md").read_text().split())
    assert "0.25 kimg of the run's 0.25 kimg budget (100.0 %), the full budget" in readme


def test_ship_refuses_to_overwrite_unless_told(run, shipped, tmp_path):
    out = tmp_path / "model"
    shutil.copytree(shipped, out)
    (out / "marker").write_text("the old model")
    refused = _ship(f"--workdir={run}", f"--out={out}")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (f"error: {out} already exists: pass --overwrite to replace "
                                      "the shipped model")
    assert (out / "marker").exists()
    replaced = _ship(f"--workdir={run}", f"--out={out}", "--overwrite")
    assert replaced.returncode == 0, replaced.stderr[-3000:]
    assert not (out / "marker").exists() and (out / "acai/1/saved_model.pb").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize("model, dataset", [("vae", "lines32"), ("acai", "mnist32")])
def test_ship_refuses_a_run_that_is_not_lines32_acai(tmp_path, model, dataset):
    workdir = tmp_path / "run"
    workdir.mkdir()
    (workdir / "config.json").write_text(tiny.experiment(model, dataset=dataset).to_json())
    with pytest.raises(ship_pretrained.ShipError, match=f"trains {model} on {dataset}; only"):
        ship_pretrained.ship(str(workdir), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_failure_mid_ship_leaves_the_old_model(run, shipped, tmp_path, monkeypatch):
    out = tmp_path / "model"
    shutil.copytree(shipped, out)
    (out / "marker").write_text("the old model")

    def interrupted(workdir, export_dir, **kwargs):
        del workdir, kwargs
        os.makedirs(os.path.join(export_dir, "acai", "1"))
        raise KeyboardInterrupt  # As a kill would, with half of the new model written.

    monkeypatch.setattr(ship_pretrained.export_lib, "export", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ship_pretrained.ship(run, str(out), overwrite=True)
    assert (out / "marker").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]


def test_demo_pretrained_scores_the_shipped_model_and_draws_it(shipped, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "flags.demo", "--pretrained", f"--pretrained_dir={shipped}",
         f"--workdir={tmp_path}"], cwd=REPO_ROOT, env=python_process.env(REPO_ROOT),
        capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith(f"ACAI demo, pretrained: the shipped lines32 ACAI model in "
                                    f"{shipped}, taken at step 16, 0.25 kimg of the run's")
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| 256 interpolations | mean distance")
    for row in rows[1:]:
        name, distance, smoothness, saved_distance, saved_smoothness = row.strip("|").split("|")
        assert name.strip() in ("ACAI (shipped model)", "Pixel blending")
        assert (distance, smoothness) == (saved_distance, saved_smoothness)
    assert (tmp_path / "pretrained_interpolations.png").stat().st_size > 0
    assert not list(tmp_path.glob("ckpt"))  # Nothing was trained.


def test_a_missing_shipped_model_says_how_to_make_one(tmp_path):
    with pytest.raises(pretrained.PretrainedError,
                       match="no shipped model in .*: make one with python benchmarks/ship_pre"):
        pretrained.load(str(tmp_path / "none"))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
