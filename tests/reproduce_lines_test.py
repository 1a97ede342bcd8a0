"""End-to-end test of benchmarks/reproduce_lines.py at a tiny budget: runs, tables, figure.

Two models (VQ-VAE's 4x4 latent exercises the merged Table-1 row) x two seeds, 4 steps each
with 2 reports, tiny networks and small evaluations.
"""

import csv
import json
import math
import os
import sys

import numpy as np
import pytest

from acai_tf.outputs import images
from acai_tf.training import machine, tensorboard_hparams
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.config import ConfigError
from acai_tf.evaluation import results as results_lib
from acai_tf.evaluation.checkpoint_eval import EvalOptions
from acai_tf.evaluation.training_eval import EvalSettings
from acai_tf.outputs.workdir import WorkdirError
from acai_tf.reproduction import run_records, table_outputs

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks"))
import reproduce_lines  # noqa: E402  pylint: disable=wrong-import-position

MODELS = ("vqvae", "baseline")  # given out of order: the outputs follow the paper's order
SEEDS = (0, 1)
TINY = {"train_kimg": 0.25, "report_kimg": 0.125, "depth": 4, "latent": 2}
SMALL = {"eval_settings": EvalSettings(lines_pairs=16, accuracy_examples=64, grid_rows=2,
                                       pairs_per_row=2, grid_steps=4, samples_side=2),
         "eval_options": EvalOptions(parts=("lines",), lines_pairs=16, figure_rows=2,
                                     figure_steps=6)}


@pytest.fixture(scope="module")
def reproduction(tmp_path_factory):
    out_dir = str(tmp_path_factory.mktemp("lines"))
    lines = []
    paths = reproduce_lines.reproduce(out_dir, models=MODELS, seeds=SEEDS, last_n=2,
                                      overrides=TINY, command="python reproduce", log=lines.append,
                                      **SMALL)
    return out_dir, paths, lines


def test_every_run_is_trained_with_its_flagfile_config(reproduction):
    out_dir, _, _ = reproduction
    for model in MODELS:
        for seed in SEEDS:
            workdir = os.path.join(out_dir, "runs", model, f"seed{seed}")
            config = workdir_lib.load_config(workdir)
            assert (config.model.depth, config.model.latent, config.train.seed) == (4, 2, seed)
            assert config.model.latent_width == (4 if model == "vqvae" else 2)
            assert workdir_lib.latest_checkpoint(workdir).endswith("ckpt-4")


def test_markdown_has_the_paper_layout_and_the_budget(reproduction):
    _, paths, _ = reproduction
    with open(paths["markdown"], encoding="utf-8") as f:
        text = f.read()
    for fact in ("train_kimg = 0.25", "report_kimg = 0.125", "2 per run", "last_n = 2",
                 "Seeds: 0, 1", "Precision: float32.",
                 "Hardware: ", "TensorFlow ", "cores", "Command: `python reproduce`",
                 f"Trained by commit(s): {machine.source_commit() or 'unknown'}."):
        assert fact in text
    header = "| Dataset | Latent dim | Metric | Baseline | VQ-VAE |"
    assert text.count(header) == 2  # training-time protocol and final checkpoint
    rows = [line for line in text.splitlines() if line.startswith("| lines32 |")]
    # One row per metric (distance, smoothness, long-way fraction) and protocol: VQ-VAE's 32-d
    # latent shares the 8-d row.
    assert len(rows) == 6
    assert all("| 8 (VQ-VAE 32) |" in row for row in rows)
    assert text.index("training-time evaluations") < text.index("evaluated checkpoint")


def test_csv_holds_finite_distances_for_every_model_and_protocol(reproduction):
    _, paths, _ = reproduction
    with open(paths["csv"], encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["protocol", "metric", "model", "latent_dim", "mean", "std", "runs"]
    assert len(rows) == 2 * 3 * len(MODELS)  # protocols x metrics x models
    assert [row["model"] for row in rows[:2]] == ["baseline", "vqvae"]
    for row in rows:
        assert row["runs"] == str(len(SEEDS))
        assert row["latent_dim"] == ("32" if row["model"] == "vqvae" else "8")
        mean, std = float(row["mean"]), float(row["std"])
        if row["metric"].startswith("Mean distance"):
            assert math.isfinite(mean) and math.isfinite(std) and mean > 0 and std >= 0
        elif row["metric"].startswith("Long way"):
            assert 0 <= mean <= 100  # percent of the interpolations
        else:
            # An interpolation that does not change (an untrained decoder) has no smoothness:
            # NaN by the metric's definition; a defined one lies in [0, 1].
            assert math.isnan(mean) or 0 <= mean <= 1


def test_figure_stacks_one_labelled_block_per_model(reproduction):
    _, paths, _ = reproduction
    image = images.read_png(paths["figure"])
    # Two rows of 32-pixel images per block, under a label band, blocks one above the other.
    block = images.LABEL_HEIGHT + 2 * 32
    assert image.shape[0] == 2 * block + images.BLOCK_GAP
    assert image.shape[1] >= (6 + 2) * 32
    assert image.dtype == np.uint8


def test_rerun_skips_finished_runs_and_evaluations(reproduction):
    out_dir, paths, _ = reproduction
    lines = []
    reproduce_lines.reproduce(out_dir, models=MODELS, seeds=SEEDS, last_n=2, overrides=TINY,
                              log=lines.append, **SMALL)
    assert sum("already trained" in line for line in lines) == len(MODELS) * len(SEEDS)
    assert not any("evaluating" in line for line in lines)


def test_runs_of_older_code_are_evaluated_again_and_get_a_session(reproduction):
    # A run trained and evaluated before the long-way fraction and the HParams dashboard.
    out_dir, _, _ = reproduction
    workdir = os.path.join(out_dir, "runs", "baseline", "seed0")
    results = results_lib.read(workdir)
    del results["lines"]["long_way_fraction"]
    results_lib.write(workdir, results)
    logdir = os.path.join(workdir, "tb", "train")
    for name in os.listdir(logdir):
        os.remove(os.path.join(logdir, name))
    lines = []
    reproduce_lines.reproduce(out_dir, models=MODELS, seeds=SEEDS, last_n=2, overrides=TINY,
                              log=lines.append, **SMALL)
    assert sum("evaluating" in line for line in lines) == 1
    assert "long_way_fraction" in results_lib.read(workdir)["lines"]
    sessions = tensorboard_hparams.read_sessions(out_dir)
    assert {os.path.join("runs", model, f"seed{seed}", "tb", "train")
            for model in MODELS for seed in SEEDS} <= set(sessions)


def test_json_is_strict_and_names_every_run(reproduction):
    _, paths, _ = reproduction

    def reject(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    with open(paths["json"], encoding="utf-8") as f:
        data = json.load(f, parse_constant=reject)  # NaN smoothness must be written as null
    assert data["seeds"] == list(SEEDS) and data["last_n"] == 2
    assert data["train"]["train_kimg"] == 0.25 and data["reports_per_run"] == 2
    assert sorted((run["model"], run["seed"]) for run in data["runs"]) == sorted(
        (model, seed) for model in MODELS for seed in SEEDS)
    assert "cpu" in data["machine"] and "tensorflow" in data["machine"]
    # Which commit trained each stage (one start per run here).
    assert all([stage["commit"] for stage in run["training_stages"]] == [machine.source_commit()]
               for run in data["runs"])


def test_precision_override_trains_and_labels_the_runs(tmp_path):
    out_dir = str(tmp_path / "bf16")
    paths = reproduce_lines.reproduce(out_dir, models=["baseline"], seeds=[0], last_n=2,
                                      overrides={**TINY, "precision": "mixed_bfloat16"},
                                      **SMALL)
    config = workdir_lib.load_config(os.path.join(out_dir, "runs", "baseline", "seed0"))
    assert config.train.precision == "mixed_bfloat16"
    with open(paths["markdown"], encoding="utf-8") as f:
        assert "- Precision: mixed_bfloat16.\n" in f.read()


def test_precision_line_names_each_runs_precision_when_they_differ():
    def run(model, seed, precision):
        config = {"train": {"seed": seed, "precision": precision, "batch": 64}}
        return run_records.Run(workdir="", config=config, key=("lines32", model, 64),
                               results=None, training={})

    same = [run("acai", 0, "float32"), run("acai", 1, "float32")]
    assert table_outputs.precisions(same) == "float32"
    mixed = [run("baseline", 0, "float32"), run("acai", 0, "mixed_bfloat16"),
             run("acai", 1, "mixed_bfloat16")]
    assert table_outputs.precisions(mixed) == (
        "Baseline seed 0: float32; ACAI seed 0: mixed_bfloat16; ACAI seed 1: mixed_bfloat16")


def test_bad_requests_fail_before_any_training(tmp_path, reproduction):
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        reproduce_lines.reproduce(str(tmp_path / "a"), models=["baseline", "nope"], seeds=[0],
                                  overrides=TINY)
    assert not os.path.exists(tmp_path / "a" / "runs")
    # The first run of the fixture, asked with another network: refused before seed 1 trains.
    out_dir, _, _ = reproduction
    with pytest.raises(WorkdirError, match="different config"):
        reproduce_lines.reproduce(out_dir, models=["baseline"], seeds=[0, 7],
                                  overrides={**TINY, "depth": 8})
    assert not os.path.exists(os.path.join(out_dir, "runs", "baseline", "seed7"))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
