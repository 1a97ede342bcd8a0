"""End-to-end test of benchmarks/reproduce_mnist.py on real MNIST at a tiny budget: runs, tables,
figure, HParams dashboard, resuming and bad input.

Two models x one latent size x one seed, 8 steps each with 2 reports, depth 4, K-means with 2
restarts on 500 train latents.
"""

import csv
import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from acai_tf.outputs import images
from acai_tf.reproduction import run_loop, run_records
from acai_tf.training import tensorboard_hparams
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.config import ConfigError
from acai_tf.evaluation import results as results_lib
from acai_tf.evaluation.checkpoint_eval import EvalOptions
from acai_tf.evaluation.training_eval import EvalSettings

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks")
sys.path.insert(0, BENCHMARKS)
import reproduce_mnist  # noqa: E402  pylint: disable=wrong-import-position

MODELS = ("acai", "baseline")  # given out of order: the outputs follow the paper's order
TINY = {"train_kimg": 0.5, "report_kimg": 0.25, "depth": 4}
SMALL = {"eval_settings": EvalSettings(accuracy_examples=64, grid_rows=2, pairs_per_row=2,
                                       grid_steps=4, samples_side=2),
         "n_init": 2, "max_train_examples": 500, "latents": [2], "seeds": [0], "last_n": 2}


@pytest.fixture(scope="module")
def reproduction(tmp_path_factory, mnist_data_dir, monkeypatch_module):
    monkeypatch_module.setenv("ACAI_TFDS_DIR", mnist_data_dir)
    out_dir = str(tmp_path_factory.mktemp("mnist"))
    lines = []
    paths = reproduce_mnist.reproduce(out_dir, models=MODELS, overrides=TINY,
                                      command="python reproduce", log=lines.append, **SMALL)
    return out_dir, paths, lines


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _workdir(out_dir, model):
    return os.path.join(out_dir, "runs", model, "latent2", "seed0")


def test_every_run_trains_the_paper_config_and_is_evaluated(reproduction):
    out_dir, _, lines = reproduction
    for model in MODELS:
        config = workdir_lib.load_config(_workdir(out_dir, model))
        assert (config.train.dataset, config.model.depth, config.model.latent) == (
            "mnist32", 4, 2)
        assert config.model.latent_width == 4
        results = results_lib.read(_workdir(out_dir, model))
        assert results["clustering"]["n_init"] == 2
        assert results["clustering"]["train_examples"] == 500
        assert set(results["classifier"]) == {"in_training_accuracy", "probe_accuracy",
                                              "probe_implementation"}
        assert results["classifier"]["probe_implementation"] == (
            "sklearn LogisticRegression+StandardScaler")
    assert lines[0] == "run 0/2, elapsed 0:00:00, estimated remaining unknown (1 kimg to go)"
    progress = [line for line in lines if line.startswith("run ")]
    assert progress[1].startswith("run 1/2, elapsed ") and "estimated remaining" in progress[1]
    assert progress[-1].endswith("estimated remaining 0:00:00 (0 kimg to go)")


def test_markdown_has_both_tables_the_budget_and_the_restarts(reproduction):
    _, paths, _ = reproduction
    with open(paths["markdown"], encoding="utf-8") as f:
        text = f.read()
    for fact in ("train_kimg = 0.5", "report_kimg = 0.25", "2 per run", "last_n = 2",
                 "Seeds: 0", "n_init = 2 restarts", "first 500 train latents", "Hardware: ",
                 "Command: `python reproduce`", "K-means restarts (n_init): 2",
                 "Probe: sklearn LogisticRegression+StandardScaler."):
        assert fact in text
    header = "| Dataset | Latent dim | Metric | Baseline | ACAI |"
    assert text.count(header) == 4  # classifier (training, checkpoint), probe, K-means
    order = [text.index(title) for title in (
        "Table 2: single-layer classifier, training-time", "Table 2: single-layer classifier, "
        "evaluated checkpoint", "Linear probe", "Table 3: K-means")]
    assert order == sorted(order)
    rows = [line for line in text.splitlines() if line.startswith("| mnist32 |")]
    assert len(rows) == 4 and all(row.startswith("| mnist32 | 32 | Accuracy (%) |")
                                  for row in rows)


def test_csv_holds_accuracies_for_every_model_and_table(reproduction):
    _, paths, _ = reproduction
    with open(paths["csv"], encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["protocol", "metric", "model", "latent_dim", "mean", "std", "runs"]
    assert [row["protocol"] for row in rows[::2]] == list(reproduce_mnist.TABLES)
    assert [row["model"] for row in rows[:2]] == ["baseline", "acai"]
    for row in rows:
        assert row["latent_dim"] == "32" and row["runs"] == "1" and row["std"] == "0.0"
        assert 0 <= float(row["mean"]) <= 100


def test_figure_has_one_labelled_block_per_model(reproduction):
    _, paths, _ = reproduction
    image = images.read_png(paths["figure"])
    block = images.LABEL_HEIGHT + reproduce_mnist.FIGURE_ROWS * 32
    assert image.shape[0] == 2 * block + images.BLOCK_GAP  # one latent size: one column
    assert image.shape[1] >= (16 + 2) * 32 and image.dtype == np.uint8


def test_json_is_strict_and_records_the_restarts(reproduction):
    _, paths, _ = reproduction

    def reject(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    with open(paths["json"], encoding="utf-8") as f:
        data = json.load(f, parse_constant=reject)
    assert (data["n_init"], data["max_train_examples"], data["seeds"]) == (2, 500, [0])
    assert [(run["model"], run["latent_dim"]) for run in data["runs"]] == [
        ("baseline", 32), ("acai", 32)]
    for run in data["runs"]:
        assert run["checkpoint"]["clustering"]["n_init"] == 2
        assert run["checkpoint"]["classifier"]["probe_implementation"] == (
            "sklearn LogisticRegression+StandardScaler")
        assert "eval/latent_accuracy" in run["training_medians"]


def test_json_names_the_hand_written_probe_for_results_without_the_field(tmp_path, fake_run):
    results = {"classifier": {"in_training_accuracy": 80.0, "probe_accuracy": 90.0},
               "clustering": {"accuracy": 60.0, "n_init": 2, "train_examples": 500}}
    run = run_records.load_run(fake_run(tmp_path, "old", dataset="mnist32", results=results))
    assert reproduce_mnist.checkpoint_entry(run) == {
        "classifier": {**results["classifier"],
                       "probe_implementation": "hand-written softmax under scipy L-BFGS"},
        "clustering": results["clustering"]}
    assert run.results["classifier"] == results["classifier"]   # the run's own is unchanged
    no_probe = run_records.load_run(fake_run(tmp_path, "lines", results={
        "classifier": {"in_training_accuracy": 50.0}}))
    assert reproduce_mnist.checkpoint_entry(no_probe) == {
        "classifier": {"in_training_accuracy": 50.0}, "clustering": None}


def test_runs_form_one_hparams_table_and_missing_sessions_are_backfilled(reproduction):
    out_dir, _, _ = reproduction
    sessions = tensorboard_hparams.read_sessions(out_dir)
    keys = {os.path.join("runs", model, "latent2", "seed0", "tb", "train") for model in MODELS}
    assert keys <= set(sessions)
    assert {sessions[key]["model.name"] for key in keys} == set(MODELS)
    assert os.path.isdir(os.path.join(out_dir, "hparams"))  # the experiment's columns
    # A run trained before the dashboard existed: its session is written afresh.
    logdir = os.path.join(_workdir(out_dir, "baseline"), "tb", "train")
    for name in os.listdir(logdir):
        os.remove(os.path.join(logdir, name))
    run_loop.write_hparams(out_dir, [_workdir(out_dir, "baseline")])
    session = tensorboard_hparams.read_sessions(out_dir)[
        os.path.join("runs", "baseline", "latent2", "seed0", "tb", "train")]
    assert (session["model.name"], session["train.dataset"]) == ("baseline", "mnist32")


def test_rerun_skips_finished_runs_and_resumes_longer_ones(reproduction):
    out_dir, _, _ = reproduction
    lines = []
    reproduce_mnist.reproduce(out_dir, models=MODELS, overrides=TINY, log=lines.append, **SMALL)
    assert sum("already trained" in line for line in lines) == 2
    assert not any("evaluating" in line for line in lines)
    # Results lacking a metric (written by older code) or of other K-means restarts: evaluated.
    workdir = _workdir(out_dir, "baseline")
    results = results_lib.read(workdir)
    del results["classifier"]["probe_accuracy"]
    results_lib.write(workdir, results)
    lines = []
    reproduce_mnist.reproduce(out_dir, models=["baseline"], overrides={**TINY, "train_kimg": 0.75},
                              log=lines.append, **SMALL)
    assert any("resuming baseline" in line and "from step 8 to 12" in line for line in lines)
    assert sum("evaluating" in line for line in lines) == 1
    assert workdir_lib.latest_checkpoint(workdir).endswith("ckpt-12")
    assert "probe_accuracy" in results_lib.read(workdir)["classifier"]
    # K-means with other restarts or train latents than asked for: evaluated again.
    options = EvalOptions(parts=("classifier", "clustering"), n_init=2, max_train_examples=500)
    needs_evaluation = run_loop.needs_evaluation
    assert not needs_evaluation(workdir, options)
    assert needs_evaluation(workdir, dataclasses.replace(options, n_init=3))
    assert needs_evaluation(workdir, dataclasses.replace(options, max_train_examples=400))
    assert needs_evaluation(workdir, dataclasses.replace(options, max_train_examples=600))


def test_bad_requests_fail_before_any_training(tmp_path, reproduction):
    for request, message in (({"models": ["nope"]}, "unknown model 'nope'"),
                             ({"latents": [3]}, "--latents must be among 2, 16"),
                             ({"n_init": 0}, "--n_init >= 1")):
        with pytest.raises(ConfigError, match=message):
            reproduce_mnist.reproduce(str(tmp_path / "a"), **{**SMALL, "models": MODELS,
                                                              "overrides": TINY, **request})
    assert not os.path.exists(tmp_path / "a")
    # The binary: one `error:` line, exit status 1, nothing trained.
    result = subprocess.run(
        [sys.executable, os.path.join(BENCHMARKS, "reproduce_mnist.py"),
         f"--out_dir={tmp_path / 'b'}", "--models=baseline,nope", "--depth=4"],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: unknown model 'nope'; known: " + ", ".join(reproduce_mnist.MODELS)]
    assert not os.path.exists(tmp_path / "b")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
