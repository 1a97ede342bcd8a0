"""acai_tf.reproduction.mnist_budget_tables and benchmarks/mnist_budget_tables.py: Tables 2 and 3
at the paper's budget from saved records, every cell with its kimg."""

import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from acai_tf.errors import UserError
from acai_tf.reproduction import mnist_budget_tables

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
START = {"commit": "8d8b666767c6", "cpu": "AMD EPYC", "cpu_flags": ["avx2"], "from_step": 0,
         "onednn": True, "precision": "float32", "started": "2026-12-07T21:14:06+0000"}


def make_record(folder, model, latent, accuracies, *, train_kimg=16384.0, starts=(START,)):
    """A record as benchmarks/long_runs.py saves it: config.json (the fields of a real one) and
    metrics.jsonl with one report per 64 kimg (step = kimg * 1024 / 64)."""
    os.makedirs(folder)
    config = {"model": {"name": model, "latent": latent, "latent_width": 4, "depth": 16},
              "runs": [dict(start) for start in starts],
              "train": {"batch": 64, "dataset": "mnist32", "precision": "float32",
                        "report_kimg": 64.0, "seed": 0, "train_kimg": train_kimg}}
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(folder, "metrics.jsonl"), "w", encoding="utf-8") as f:
        for index, accuracy in enumerate(accuracies):
            kimg = 64.0 * (index + 1)
            f.write(json.dumps({"step": int(kimg * 16), "kimg": kimg,
                                "eval/latent_accuracy": accuracy,
                                "losses/reconstruction": 0.01,
                                "monitors/images_per_second": 300.0}) + "\n")


def evaluation(kimg, *, kmeans, n_init, probe=None):
    """An eval/results.json in checkpoint_eval's format (the fields the tables read)."""
    step = int(kimg * 16)
    return {"checkpoint": f"ckpt/ckpt-{step}", "dataset": "mnist32", "kimg": float(kimg),
            "classifier": {"in_training_accuracy": 94.35, "probe_accuracy": probe,
                           "probe_implementation": "sklearn LogisticRegression+StandardScaler"},
            "clustering": {"accuracy": kmeans, "n_init": n_init, "train_examples": 60000},
            "latent_dim": 256, "lines": None, "seed": 0, "step": step}


def save_evaluation(folder, results, final=False):
    path = (os.path.join(folder, "eval", "results.json") if final else
            os.path.join(folder, "milestones", f"ckpt-{results['step']}.json"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)


@pytest.fixture(name="records")
def fixture_records(tmp_path):
    """A baseline 256-d run still training (40 reports, checkpoints at 1,024 and 2,048 kimg), an
    ACAI 256-d run finished at its 256-kimg budget (4 reports, final evaluation with 1,000
    restarts), and the lost records of an earlier ACAI start."""
    records = tmp_path / "runs"
    rng = np.random.default_rng(3)
    baseline_values = [float(value) for value in np.round(rng.uniform(80, 96, size=40), 2)]
    baseline = str(records / "mnist_baseline_latent16_seed0")
    make_record(baseline, "baseline", 16, baseline_values)
    save_evaluation(baseline, evaluation(1024, kmeans=83.05, n_init=20, probe=98.49))
    save_evaluation(baseline, evaluation(2048, kmeans=85.5, n_init=20, probe=98.61))
    acai = str(records / "mnist_acai_latent16_seed0")
    make_record(acai, "acai", 16, [90.0, 93.0, 91.0, 97.0], train_kimg=256.0,
                starts=(START, {**START, "cpu": "Intel Xeon", "cpu_flags": ["avx2", "avx512f"],
                                "from_step": 2048, "precision": "mixed_bfloat16"}))
    save_evaluation(acai, evaluation(256, kmeans=91.25, n_init=1000, probe=98.0), final=True)
    make_record(str(records / "mnist_acai_latent16_seed0.lost-20261205T0521450000"), "acai", 16,
                [11.0] * 30)
    save_evaluation(str(records / "mnist_acai_latent16_seed0.lost-20261205T0521450000"),
                    evaluation(1024, kmeans=12.0, n_init=20, probe=13.0))
    os.makedirs(records / "lines_acai_seed0")  # not an MNIST record
    return records, baseline_values


def test_cells_hold_the_median_of_the_last_20_and_their_kimg(records):
    records, baseline_values = records
    runs = {run["name"]: run for run in mnist_budget_tables.load(str(records))}
    assert sorted(runs) == ["mnist_acai_latent16_seed0", "mnist_baseline_latent16_seed0"]
    baseline, acai = runs["mnist_baseline_latent16_seed0"], runs["mnist_acai_latent16_seed0"]
    cell = mnist_budget_tables.training_cell(baseline)
    assert cell.value == pytest.approx(float(np.median(baseline_values[-20:])))
    assert (cell.kimg, cell.reports) == (2560.0, 20)
    assert cell.text() == f"{np.median(baseline_values[-20:]):.2f} (2,560 kimg)"
    # Fewer reports than 20: the median of all, and the cell says so.
    assert mnist_budget_tables.training_cell(acai).text() == "92.00 (256 kimg, median of 4)"
    assert mnist_budget_tables.probe_cell(baseline).text() == "98.61 (2,048 kimg)"
    assert [cell.text() for cell in mnist_budget_tables.kmeans_cells(baseline)] == [
        "83.05 (1,024 kimg, 20 restarts)", "85.50 (2,048 kimg, 20 restarts)"]
    assert [cell.text() for cell in mnist_budget_tables.kmeans_cells(acai)] == [
        "91.25 (256 kimg, 1,000 restarts)"]
    assert mnist_budget_tables.still_training(baseline)
    assert not mnist_budget_tables.still_training(acai)


def test_the_final_evaluation_wins_over_a_milestone_of_the_same_checkpoint(records):
    records, _ = records
    acai = str(records / "mnist_acai_latent16_seed0")
    save_evaluation(acai, evaluation(256, kmeans=90.0, n_init=20, probe=97.0))
    run = [run for run in mnist_budget_tables.load(str(records)) if run["model"] == "acai"][0]
    assert [cell.text() for cell in mnist_budget_tables.kmeans_cells(run)] == [
        "91.25 (256 kimg, 1,000 restarts)"]
    assert mnist_budget_tables.probe_cell(run).value == 98.0


def test_write_gives_the_tables_the_header_and_the_csv(records, tmp_path):
    records, baseline_values = records
    out = tmp_path / "out"
    paths = mnist_budget_tables.write(str(records), str(out), source="results/runs",
                                      command="python benchmarks/mnist_budget_tables.py")
    assert paths == [str(out / "mnist_tables.md"), str(out / "mnist_table.csv")]
    text = (out / "mnist_tables.md").read_text(encoding="utf-8")
    median = f"{np.median(baseline_values[-20:]):.2f}"
    assert (f"| 256 | Single-layer classifier, median of the last 20 reports | {median} "
            "(2,560 kimg) | 92.00 (256 kimg, median of 4) |") in text
    assert ("| 256 | Linear probe, newest evaluated checkpoint | 98.61 (2,048 kimg) | "
            "98.00 (256 kimg) |") in text
    assert "| 256 | 256 kimg | – | 91.25 (256 kimg, 1,000 restarts) |" in text
    assert "| 256 | 1,024 kimg | 83.05 (1,024 kimg, 20 restarts) | – |" in text
    assert "| Latent dim | Metric | Baseline | ACAI |" in text   # the paper's column order
    assert "train_kimg = 16,384 for Baseline 256-d; train_kimg = 256 for ACAI 256-d" in text
    assert ("Still training (below their train_kimg): Baseline 256-d at 2,560 kimg. Finished: "
            "ACAI 256-d at 256 kimg.") in text
    assert ("Baseline 256-d: float32 on AMD EPYC (avx2), oneDNN on; ACAI 256-d: float32 on AMD "
            "EPYC (avx2), oneDNN on; mixed_bfloat16 on Intel Xeon (avx2 avx512f), oneDNN on"
            ) in text
    assert ("- Precision by kimg: Baseline 256-d: float32; ACAI 256-d: float32, mixed_bfloat16 "
            "from 128 kimg.") in text
    assert "K-means on 60,000 train latents" in text
    assert "the records in `results/runs`" in text
    assert "11.00" not in text and "12.00" not in text  # nothing of the lost records
    rows = list(csv.DictReader(io.StringIO((out / "mnist_table.csv").read_text())))
    assert {(row["table"], row["model"], row["kimg"], row["n_init"]) for row in rows} == {
        ("table2_classifier_training", "baseline", "2560", ""),
        ("table2_probe", "baseline", "2048", ""),
        ("table3_clustering", "baseline", "1024", "20"),
        ("table3_clustering", "baseline", "2048", "20"),
        ("table2_classifier_training", "acai", "256", ""),
        ("table2_probe", "acai", "256", ""),
        ("table3_clustering", "acai", "256", "1000")}
    assert {row["run_kimg"] for row in rows if row["model"] == "baseline"} == {"2560"}


def test_a_run_without_evaluations_is_named_in_table_3(tmp_path):
    make_record(str(tmp_path / "mnist_acai_latent2_seed1"), "acai", 2, [50.0, 60.0])
    text = mnist_budget_tables.markdown(mnist_budget_tables.load(str(tmp_path)), "runs")
    assert "| 32, seed 1 | Linear probe, newest evaluated checkpoint | – |" in text
    assert "No checkpoint has a K-means result yet." in text


def test_missing_or_empty_records_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        mnist_budget_tables.load(str(tmp_path / "nowhere"))
    os.makedirs(tmp_path / "mnist_acai_latent16_seed0.lost-20261205T0521450000")
    with pytest.raises(UserError, match="no MNIST record"):
        mnist_budget_tables.load(str(tmp_path))


def test_the_command_writes_the_outputs_and_fails_in_one_line(records, tmp_path):
    records, _ = records
    script = os.path.join(ROOT, "benchmarks", "mnist_budget_tables.py")
    done = subprocess.run([sys.executable, script, f"--records_dir={tmp_path / 'nowhere'}",
                           f"--out_dir={tmp_path / 'out'}"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nowhere'} does not exist: save the runs' records first with "
        "python benchmarks/long_runs.py"]
    done = subprocess.run([sys.executable, script, f"--records_dir={records}",
                           f"--out_dir={tmp_path / 'out'}"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "mnist_table.csv").read_text().count("\n") == 8


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
