"""Tests of the cross-run tables and figures, on fake workdirs (config, results, TensorBoard)."""

import csv
import io
import json
import os
import sys

import numpy as np
import pytest
import tensorflow as tf
from absl import flags

from acai_tf import eval_lib, figures, report
from acai_tf.config import ExperimentConfig, ModelConfig, TrainConfig
from acai_tf.cli import report as report_binary


def fake_run(root, name, *, model="acai", dataset="lines32", latent_width=2, latent=16,
             seed=0, depth=16, results=None, training=None, figure_value=None) -> str:
    """A workdir with config.json and, optionally, eval/results.json, tb/train scalars
    (training: {tag: [(step, value)]}) and an eval/interpolation.png of one gray level."""
    workdir = os.path.join(str(root), name)
    os.makedirs(workdir)
    config = ExperimentConfig(
        model=ModelConfig(name=model, latent=latent, latent_width=latent_width, depth=depth),
        train=TrainConfig(dataset=dataset, seed=seed))
    with open(os.path.join(workdir, "config.json"), "w") as f:
        f.write(config.to_json())
    if results is not None:
        os.makedirs(os.path.join(workdir, "eval"))
        with open(eval_lib.results_path(workdir), "w") as f:
            json.dump({"lines": None, "classifier": None, "clustering": None, **results}, f)
    if training:
        writer = tf.summary.create_file_writer(os.path.join(workdir, "tb", "train"))
        with writer.as_default():
            for tag, points in training.items():
                for step, value in points:
                    tf.summary.scalar(tag, value, step=step)
        writer.close()
    if figure_value is not None:
        figures.write_png(eval_lib.figure_path(workdir),
                          np.full((32, 40, 1), figure_value, np.uint8))
    return workdir


def lines_results(distance, smoothness):
    return {"lines": {"mean_distance": distance, "mean_smoothness": smoothness},
            "classifier": {"in_training_accuracy": 50.0}}


def cell(table, dataset, latent, metric, model):
    for row in table["rows"]:
        if row[:3] == (dataset, latent, metric):
            return row[3].get(model)
    return None


def test_mean_std_is_the_population_std_and_formats_with_two_decimals():
    mean, std = report.mean_std([1.0, 2.0, 3.0, 4.0])
    assert (mean, std) == (2.5, pytest.approx(np.std([1, 2, 3, 4])))
    assert std == pytest.approx(1.1180339887)   # ddof=0, not 1.29 (ddof=1)
    assert report.format_cell(mean, std) == "2.50 ± 1.12"
    assert all(np.isnan(report.mean_std([1.0, None])))


def test_lines_table_groups_seeds_scales_distance_and_orders_models(tmp_path):
    runs = [report.load_run(fake_run(tmp_path, f"acai{seed}", seed=seed,
                                     results=lines_results(0.001 * (seed + 1), 0.1 * seed)))
            for seed in range(3)]
    runs.append(report.load_run(fake_run(tmp_path, "base", model="baseline",
                                         results=lines_results(0.01, 0.5))))
    table = report.build_table("table1_lines", runs)
    assert table["columns"] == ["baseline", "acai"]          # paper order, not input order
    mean, std, count = cell(table, "lines32", 64, "Mean distance (×10³)", "acai")
    assert (mean, count) == (pytest.approx(2.0), 3)
    assert std == pytest.approx(np.std([1.0, 2.0, 3.0]))
    markdown = report.to_markdown(table)
    assert "| Dataset | Latent dim | Metric | Baseline | ACAI |" in markdown
    assert "| lines32 | 64 | Mean smoothness | 0.50 ± 0.00 | 0.10 ± 0.08 |" in markdown
    assert "over 1-3 run(s) per cell" in markdown
    rows = list(csv.DictReader(io.StringIO(report.to_csv(table))))
    assert len(rows) == 4 and rows[0]["model"] == "baseline"
    assert (rows[2]["metric"], float(rows[2]["mean"])) == ("Mean smoothness", 0.5)


def test_classifier_and_clustering_rows_by_dataset_and_latent_dim(tmp_path):
    runs = []
    for latent_width, latent, accuracy in ((4, 16, 90.0), (2, 8, 80.0)):   # 256-d, then 32-d
        for model in ("acai", "vae"):
            results = {"classifier": {"in_training_accuracy": accuracy,
                                      "probe_accuracy": accuracy + 1},
                       "clustering": {"accuracy": accuracy - 20, "n_init": 10,
                                      "train_examples": 60000}}
            runs.append(report.load_run(fake_run(
                tmp_path, f"{model}{latent}", model=model, dataset="mnist32",
                latent_width=latent_width, latent=latent, results=results)))
    runs.append(report.load_run(fake_run(tmp_path, "lines", results=lines_results(0.0, 0.0))))

    classifier = report.build_table("table2_classifier", runs)
    assert [row[:2] for row in classifier["rows"]] == [("lines32", 64), ("mnist32", 32),
                                                       ("mnist32", 256)]
    assert classifier["columns"] == ["vae", "acai"]
    probe = report.build_table("table2_probe", runs)
    assert [row[:2] for row in probe["rows"]] == [("mnist32", 32), ("mnist32", 256)]
    clustering = report.build_table("table3_clustering", runs)
    assert cell(clustering, "mnist32", 256, "Accuracy (%)", "vae")[0] == 70.0
    assert ("K-means restarts (n_init): 10; train latents: 60000."
            in report.to_markdown(clustering))
    assert report.build_table("table1_lines_training", runs) is None


def test_nan_metric_shows_as_nan_but_an_unmeasured_one_is_left_out(tmp_path):
    runs = [report.load_run(fake_run(tmp_path, "a", results=lines_results(0.002, None))),
            report.load_run(fake_run(tmp_path, "b", seed=1, results=lines_results(0.004, 0.2)))]
    table = report.build_table("table1_lines", runs)
    assert "| lines32 | 64 | Mean smoothness | nan ± nan |" in report.to_markdown(table)
    assert report.build_table("table2_probe", runs) is None   # lines runs have no probe


def test_training_protocol_median_of_the_last_n(tmp_path):
    points = [(step, float(step)) for step in range(1, 31)]
    training = {"eval/mean_distance": [(s, v / 1000) for s, v in points],
                "eval/mean_smoothness": points + [(30, 100.0)],   # step 30 logged again
                "eval/latent_accuracy": points[:5]}
    workdir = fake_run(tmp_path, "run", training=training)
    medians = report.training_medians(workdir, last_n=20)
    assert medians["eval/mean_distance"] == pytest.approx(np.median(np.arange(11, 31)) / 1000)
    assert medians["eval/mean_smoothness"] == pytest.approx(np.median([*range(11, 30), 100]))
    assert medians["eval/latent_accuracy"] == 3.0                 # fewer than 20: all of them
    assert report.training_medians(str(tmp_path / "none")) == {}

    run = report.load_run(workdir, last_n=20)
    table = report.build_table("table1_lines_training", [run])
    assert cell(table, "lines32", 64, "Mean distance (×10³)", "acai")[0] == pytest.approx(20.5)
    assert "median of the last 20 training-time evaluations" in report.to_markdown(table)


def test_missing_results_policies(tmp_path, monkeypatch):
    with_results = fake_run(tmp_path, "done", results=lines_results(0.0, 0.0))
    without = fake_run(tmp_path, "todo", training={"eval/mean_distance": [(1, 0.5)]})
    with pytest.raises(report.ReportError, match="todo/eval/results.json does not exist"):
        report.collect_runs([with_results, without])
    runs = report.collect_runs([with_results, without], missing="skip")
    assert [run.results is None for run in runs] == [False, True]

    evaluated = []

    def fake_evaluate(workdir, options, log):
        evaluated.append((workdir, options.n_init))
        with open(eval_lib.results_path(workdir), "w") as f:
            json.dump(lines_results(0.1, 0.1), f)

    os.makedirs(os.path.join(without, "eval"))
    monkeypatch.setattr(eval_lib, "evaluate", fake_evaluate)
    runs = report.collect_runs([with_results, without], missing="evaluate",
                               eval_options=eval_lib.EvalOptions(n_init=3))
    assert evaluated == [(without, 3)] and runs[1].results["lines"]["mean_distance"] == 0.1
    with pytest.raises(report.ReportError, match="no config.json|does not exist"):
        report.collect_runs([str(tmp_path)])


def test_group_warnings_for_runs_that_differ_in_more_than_the_seed(tmp_path):
    runs = [report.load_run(fake_run(tmp_path, "a", seed=0)),
            report.load_run(fake_run(tmp_path, "b", seed=1)),
            report.load_run(fake_run(tmp_path, "c", seed=2, depth=32))]
    warnings = report.group_warnings(runs)
    assert len(warnings) == 1 and "lines32 / acai / latent 64" in warnings[0]
    assert report.group_warnings(runs[:2]) == []


def test_write_report_and_side_by_side_figure(tmp_path):
    root = tmp_path / "runs"
    runs = [report.load_run(fake_run(root, name, model=model, seed=seed, figure_value=value,
                                     results=lines_results(0.001, 0.1)))
            for name, model, seed, value in (("acai1", "acai", 1, 200), ("acai0", "acai", 0, 100),
                                             ("base", "baseline", 0, 50))]
    written = report.write_report(runs, str(tmp_path / "out"))
    names = sorted(os.path.basename(path) for path in written)
    assert names == ["interpolation_lines32.png", "table1_lines.csv", "table1_lines.md",
                     "table2_classifier.csv", "table2_classifier.md", "tables.md"]
    with open(tmp_path / "out" / "tables.md", encoding="utf-8") as f:
        assert f.read().count("### Table") == 2
    figure = figures.read_png(str(tmp_path / "out" / "interpolation_lines32.png"))
    label = figures.LABEL_HEIGHT
    # Two blocks, each as wide as the wider of its image and its label.
    cell_width = (figure.shape[1] - figures.BLOCK_GAP) // 2
    assert figure.shape[0] == label + 32 and cell_width >= 40
    # Baseline first (paper order); ACAI's block is its lowest-seed run (gray 100).
    second = cell_width + figures.BLOCK_GAP
    assert (figure[label:, :40] == 50).all() and (figure[label:, second:second + 40] == 100).all()
    assert (figure[:label] < 128).any()                   # the labels are drawn


def test_interpolation_figure_layout():
    inputs_a, inputs_b = np.full((2, 4, 4, 1), -1.0), np.full((2, 4, 4, 1), 1.0)
    path = np.zeros((2, 3, 4, 4, 1))
    image = figures.interpolation_figure(inputs_a, inputs_b, path)
    gap = figures.ENDPOINT_GAP
    assert image.shape == (8, 5 * 4 + 2 * gap, 1) and image.dtype == np.uint8
    assert (image[:, :4] == 0).all() and (image[:, -4:] == 255).all()
    assert (image[:, 4 + gap:4 + gap + 12] == 128).all()


def test_report_binary_globs_and_reports_errors_in_one_line(tmp_path, capsys):
    for seed in range(2):
        fake_run(tmp_path / "runs", f"acai_{seed}", seed=seed, results=lines_results(0.001, 0.1))

    def run(*args):
        flag_values = flags.FlagValues()
        report_binary.define_flags(flag_values)
        flag_values(["report", *args])
        return report_binary.report_from_flags(flag_values), capsys.readouterr()

    code, output = run(f"--workdirs={tmp_path}/runs/acai_*", f"--output_dir={tmp_path}/out")
    assert code == 0 and "2 run(s) in 1 group(s)" in output.out
    assert os.path.isfile(tmp_path / "out" / "table1_lines.md")

    code, output = run(f"--workdirs={tmp_path}/nothing_*", f"--output_dir={tmp_path}/out")
    assert code == 1
    assert output.err.strip() == f"error: --workdirs: '{tmp_path}/nothing_*' matches no directory"

    fake_run(tmp_path / "runs", "acai_9", seed=9)
    code, output = run(f"--workdirs={tmp_path}/runs/acai_*", f"--output_dir={tmp_path}/out")
    assert code == 1 and output.err.count("\n") == 1
    assert "acai_9/eval/results.json does not exist" in output.err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
