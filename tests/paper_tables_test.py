"""Tests of the paper tables, on fake workdirs (config, results, records)."""

import csv
import io
import os
import sys

import numpy as np
import pytest

from acai_tf.outputs import images
from acai_tf.reproduction import paper_tables, run_records
from acai_tf.evaluation import representation, results as results_lib


def lines_results(distance, smoothness):
    return {"lines": {"mean_distance": distance, "mean_smoothness": smoothness},
            "classifier": {"in_training_accuracy": 50.0}}


def cell(table, dataset, latent, metric, model):
    for row in table["rows"]:
        if row[:3] == (dataset, latent, metric):
            return row[3].get(model)
    return None


def test_mean_std_is_the_population_std_and_formats_with_two_decimals():
    mean, std = paper_tables.mean_std([1.0, 2.0, 3.0, 4.0])
    assert (mean, std) == (2.5, pytest.approx(np.std([1, 2, 3, 4])))
    assert std == pytest.approx(1.1180339887)   # ddof=0, not 1.29 (ddof=1)
    assert paper_tables.format_cell(mean, std) == "2.50 ± 1.12"
    assert all(np.isnan(paper_tables.mean_std([1.0, None])))
    assert paper_tables.format_cell(*paper_tables.mean_std([1.0, None])) == "undefined"


def test_lines_table_groups_seeds_scales_distance_and_orders_models(tmp_path, fake_run):
    runs = [run_records.load_run(fake_run(tmp_path, f"acai{seed}", seed=seed,
                                     results=lines_results(0.001 * (seed + 1), 0.1 * seed)))
            for seed in range(3)]
    runs.append(run_records.load_run(fake_run(tmp_path, "base", model="baseline",
                                         results=lines_results(0.01, 0.5))))
    table = paper_tables.build_table("table1_lines", runs)
    assert table["columns"] == ["baseline", "acai"]          # paper order, not input order
    mean, std, count = cell(table, "lines32", 64, "Mean distance (×10³)", "acai")
    assert (mean, count) == (pytest.approx(2.0), 3)
    assert std == pytest.approx(np.std([1.0, 2.0, 3.0]))
    markdown = paper_tables.to_markdown(table)
    assert "| Dataset | Latent dim | Metric | Baseline | ACAI |" in markdown
    assert "| lines32 | 64 | Mean smoothness | 0.50 ± 0.00 | 0.10 ± 0.08 |" in markdown
    assert "over 1-3 run(s) per cell" in markdown
    rows = list(csv.DictReader(io.StringIO(paper_tables.to_csv(table))))
    assert len(rows) == 4 and rows[0]["model"] == "baseline"
    assert (rows[2]["metric"], float(rows[2]["mean"])) == ("Mean smoothness", 0.5)


def test_classifier_and_clustering_rows_by_dataset_and_latent_dim(tmp_path, fake_run):
    runs = []
    for latent_width, latent, accuracy in ((4, 16, 90.0), (2, 8, 80.0)):   # 256-d, then 32-d
        for model in ("acai", "vae"):
            results = {"classifier": {"in_training_accuracy": accuracy,
                                      "probe_accuracy": accuracy + 1},
                       "clustering": {"accuracy": accuracy - 20, "n_init": 10,
                                      "train_examples": 60000}}
            runs.append(run_records.load_run(fake_run(
                tmp_path, f"{model}{latent}", model=model, dataset="mnist32",
                latent_width=latent_width, latent=latent, results=results)))
    runs.append(run_records.load_run(fake_run(tmp_path, "lines", results=lines_results(0.0, 0.0))))

    classifier = paper_tables.build_table("table2_classifier", runs)
    assert [row[:2] for row in classifier["rows"]] == [("lines32", 64), ("mnist32", 32),
                                                       ("mnist32", 256)]
    assert classifier["columns"] == ["vae", "acai"]
    probe = paper_tables.build_table("table2_probe", runs)
    assert [row[:2] for row in probe["rows"]] == [("mnist32", 32), ("mnist32", 256)]
    clustering = paper_tables.build_table("table3_clustering", runs)
    assert cell(clustering, "mnist32", 256, "Accuracy (%)", "vae")[0] == 70.0
    assert ("K-means restarts (n_init): 10; train latents: 60000."
            in paper_tables.to_markdown(clustering))
    assert paper_tables.build_table("table1_lines_training", runs) is None


def test_probe_table_says_which_implementation_fit_the_probes(tmp_path, fake_run):
    def probe_run(name, seed, **implementation):
        results = {"classifier": {"in_training_accuracy": 80.0, "probe_accuracy": 90.0,
                                  **implementation}}
        return run_records.load_run(fake_run(tmp_path, name, seed=seed, dataset="mnist32",
                                             results=results))

    current = results_lib.PROBE_IMPLEMENTATION_KEY
    new = [probe_run(f"new{seed}", seed, **{current: representation.PROBE_IMPLEMENTATION})
           for seed in range(2)]
    markdown = paper_tables.to_markdown(paper_tables.build_table("table2_probe", new))
    assert markdown.rstrip().endswith(
        "per cell. Probe: sklearn LogisticRegression+StandardScaler.")
    # Results written before the implementation was recorded were fit by the hand-written one.
    old = probe_run("old", 2)
    markdown = paper_tables.to_markdown(paper_tables.build_table("table2_probe", [old]))
    assert markdown.rstrip().endswith(
        "Probe: hand-written softmax under scipy L-BFGS (results that predate the record of "
        "the probe's implementation).")
    markdown = paper_tables.to_markdown(paper_tables.build_table("table2_probe", [*new, old]))
    assert ("Probe: hand-written softmax under scipy L-BFGS (results that predate the record "
            "of the probe's implementation), 1 run(s); sklearn LogisticRegression+"
            "StandardScaler, 2 run(s).") in markdown


def test_write_text_replaces_a_file_whole_or_not_at_all(tmp_path):
    path = str(tmp_path / "tables.md")
    assert paper_tables.write_text(path, "old\n") == path
    with pytest.raises(TypeError):
        paper_tables.write_text(path, None)   # fails while writing: the old file stays whole
    assert (tmp_path / "tables.md").read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["tables.md"]   # and no temporary file is left behind


def test_nan_metric_shows_as_undefined_but_an_unmeasured_one_is_left_out(tmp_path, fake_run):
    runs = [run_records.load_run(fake_run(tmp_path, "a", results=lines_results(0.002, None))),
            run_records.load_run(fake_run(tmp_path, "b", seed=1,
                                          results=lines_results(0.004, 0.2)))]
    table = paper_tables.build_table("table1_lines", runs)
    markdown = paper_tables.to_markdown(table)
    assert "| lines32 | 64 | Mean smoothness | undefined |" in markdown
    assert "| lines32 | 64 | Mean distance (×10³) | 3.00 ± 1.00 |" in markdown
    assert "undefined: the metric is NaN in at least one run" in markdown
    assert paper_tables.build_table("table2_probe", runs) is None   # lines runs have no probe


def test_write_report_and_side_by_side_figure(tmp_path, fake_run):
    root = tmp_path / "runs"
    runs = [run_records.load_run(fake_run(root, name, model=model, seed=seed, figure_value=value,
                                     results=lines_results(0.001, 0.1)))
            for name, model, seed, value in (("acai1", "acai", 1, 200), ("acai0", "acai", 0, 100),
                                             ("base", "baseline", 0, 50))]
    written = paper_tables.write_report(runs, str(tmp_path / "out"))
    names = sorted(os.path.basename(path) for path in written)
    assert names == ["interpolation_lines32.png", "table1_lines.csv", "table1_lines.md",
                     "table2_classifier.csv", "table2_classifier.md", "tables.md"]
    with open(tmp_path / "out" / "tables.md", encoding="utf-8") as f:
        assert f.read().count("### Table") == 2
    figure = images.read_png(str(tmp_path / "out" / "interpolation_lines32.png"))
    label = images.LABEL_HEIGHT
    # Two blocks, each as wide as the wider of its image and its label.
    cell_width = (figure.shape[1] - images.BLOCK_GAP) // 2
    assert figure.shape[0] == label + 32 and cell_width >= 40
    # Baseline first (paper order); ACAI's block is its lowest-seed run (gray 100).
    second = cell_width + images.BLOCK_GAP
    assert (figure[label:, :40] == 50).all() and (figure[label:, second:second + 40] == 100).all()
    assert (figure[:label] < 128).any()                   # the labels are drawn


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
