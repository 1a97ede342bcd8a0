"""Tests of benchmarks/update_readme.py: the generated blocks of README.md and docs/ are what
results/ and the shipped model's metrics generate."""

import csv
import json
import os
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import update_readme  # noqa: E402  pylint: disable=wrong-import-position

# pylint: disable=wrong-import-position
from acai_tf.errors import UserError  # noqa: E402
from acai_tf.reproduction import mnist_budget_tables  # noqa: E402

METRICS = {
    "checkpoint": {"taken_at": "the end of the run's 16,384 kimg budget"},
    "lines_benchmark": {"pairs": 256, "steps": 16,
                        "exported_model": {"mean_distance": 0.00041249, "mean_smoothness": 0.0512},
                        "pixel_blending": {"mean_distance": 0.0062021, "mean_smoothness": 0.87819}},
    "config": {"model": {"name": "acai", "lr": 1e-4},
               "train": {"dataset": "lines32", "batch": 64, "precision": "float32", "seed": 1}}}


def test_every_page_is_what_the_results_generate():
    assert update_readme.update(ROOT, check=True) == [], "run `python benchmarks/update_readme.py`"


def test_the_results_table_has_a_row_per_reproduction_with_the_numbers_of_its_csv():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    glance = readme.split("<!-- glance:begin -->\n", 1)[1].split("<!-- glance:end -->", 1)[0]
    rows = glance.splitlines()[2:]
    assert len(rows) == len(update_readme.GLANCE)
    with open(os.path.join(ROOT, "results", "paper_budget", "lines_table.csv"),
              encoding="utf-8", newline="") as f:
        paper_budget = {row["metric"]: float(row["mean"]) for row in csv.DictReader(f)
                        if row["protocol"] == "training"}
    assert f"ACAI {paper_budget['Mean distance (×10³)']:.2f}" in rows[0]
    assert "16,384 (the paper's)" in rows[0]


def _root(tmp_path, pages: dict[str, str]) -> str:
    """A tree with the shipped model's metrics, an empty results/ and the given pages."""
    (tmp_path / "results").mkdir()
    metrics = tmp_path / update_readme.PRETRAINED_METRICS
    metrics.parent.mkdir(parents=True)
    metrics.write_text(json.dumps(METRICS))
    for page, text in pages.items():
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text(text, encoding="utf-8")
    return str(tmp_path)


def _markers(*names: str) -> str:
    return "".join(f"<!-- {name}:begin -->\nold\n<!-- {name}:end -->\n" for name in names)


def test_update_rewrites_each_block_on_its_page_and_check_writes_nothing(tmp_path):
    names = [f"results:{name}" for name in update_readme.SECTIONS]
    pages = {"README.md": "intro\n" + _markers("pretrained", "glance") + "tail\n",
             "docs/reproduction.md": _markers(*names[:5]),
             "docs/performance.md": "# Performance\n\n" + _markers(*names[5:])}
    root = _root(tmp_path, pages)
    assert update_readme.update(root, check=True) == list(pages)
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == pages["README.md"]
    assert update_readme.update(root) == list(pages)
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("intro\n<!-- pretrained:begin -->\n| 256 interpolations × 16 steps")
    assert readme.endswith("<!-- glance:end -->\ntail\n")
    performance = (tmp_path / "docs" / "performance.md").read_text(encoding="utf-8")
    assert ("<!-- results:throughput_amx.md:begin -->\nNot generated yet "
            "(`results/throughput_amx.md` is missing).\n") in performance
    assert update_readme.update(root, check=True) == []


@pytest.mark.parametrize("readme, message", [
    (_markers("glance"), "pretrained is on no page"),
    (_markers("pretrained", "glance", "glance"), "glance is on 2 places"),
    (_markers("pretrained", "glance", "results:nothing.md"), "unknown generated block"),
])
def test_update_refuses_a_block_missing_repeated_or_unknown(tmp_path, readme, message):
    names = [f"results:{name}" for name in update_readme.SECTIONS]
    root = _root(tmp_path, {"README.md": readme, "docs/reproduction.md": _markers(*names),
                            "docs/performance.md": ""})
    with pytest.raises(UserError, match=message):
        update_readme.update(root)
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == readme


def test_update_names_a_missing_page(tmp_path):
    with pytest.raises(UserError, match="docs/reproduction.md is missing"):
        update_readme.update(_root(tmp_path, {"README.md": ""}))


def test_render_section_puts_headings_below_the_page_and_links_the_figure_from_the_page(tmp_path):
    assert update_readme.render_section(str(tmp_path), "lines_table.md") == (
        "Not generated yet (`results/lines_table.md` is missing).\n")
    (tmp_path / "lines_table.md").write_text("# Table 1\n\nhead\n\n### Training\n\n| a |\n")
    assert update_readme.render_section(str(tmp_path), "lines_table.md", "../") == (
        "### Table 1\n\nhead\n\n#### Training\n\n| a |\n")
    (tmp_path / "lines_figure.png").write_bytes(b"png")
    rendered = update_readme.render_section(str(tmp_path), "lines_table.md", "../")
    assert rendered.endswith("| a |\n\n![interpolations of the 448-kimg runs]"
                             "(../results/lines_figure.png)\n")


def test_the_official_table_leaves_out_what_the_curves_table_printed(tmp_path):
    (tmp_path / "lines_curves.md").write_text(
        "# Curves\n\n| record | kimg |\n|---|---|\n| ours | 448 |\n\nA note.\n")
    (tmp_path / "official_reference.md").write_text(
        "# Official\n\n| record | kimg |\n|---|---|\n| official | 448 |\n| ours | 448 |\n\n"
        "A note.\n\n## At equal budgets\n\n| ours | 448 |\n")
    rendered = update_readme.render_section(str(tmp_path), "official_reference.md")
    assert rendered == (
        "### Official\n\n| record | kimg |\n|---|---|\n| official | 448 |\n\n"
        "Rows printed from `results/lines_curves.md` are not repeated: ours.\n\n"
        "#### At equal budgets\n\n| ours | 448 |\n")   # a table's header row stays


def _write_reproduction(results, stem, train_kimg, seeds, rows):
    (results / f"{stem}_reproduction.json").write_text(json.dumps(
        {"train": {"train_kimg": train_kimg}, "seeds": seeds}))
    with open(results / f"{stem}_table.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["protocol", "metric", "model", "latent_dim", "mean", "std", "runs"])
        writer.writerows(rows)


def test_render_glance_ranks_acai_among_the_models_from_the_csv(tmp_path):
    assert update_readme.render_glance(str(tmp_path)).count("\n") == 2   # header only
    distance, smoothness = "Mean distance (×10³)", "Mean smoothness"
    _write_reproduction(tmp_path, "lines", 448.0, [0, 1], [
        ("training", distance, "baseline", 64, 12.9, 0.26, 2),
        ("training", distance, "vae", 64, 4.79, 1.03, 2),
        ("training", distance, "acai", 64, 2.32, 0.33, 2),
        ("checkpoint", distance, "acai", 64, 99.0, 0.0, 2),
        ("training", smoothness, "baseline", 64, 0.23, 0.02, 2),
        ("training", smoothness, "vae", 64, "nan", "nan", 2),
        ("training", smoothness, "acai", 64, 0.30, 0.01, 2)])
    _write_reproduction(tmp_path, "mnist", 256.0, [0], [
        ("table3_clustering", "Accuracy (%)", "dropout", 32, 71.46, 0.0, 1),
        ("table3_clustering", "Accuracy (%)", "acai", 32, 67.89, 0.0, 1),
        ("table3_clustering", "Accuracy (%)", "acai", 256, 78.25, 0.0, 1)])
    rows = update_readme.render_glance(str(tmp_path), "../").splitlines()[2:]
    assert rows[0] == (
        "| Table 1, lines32 interpolation | Baseline, VAE, ACAI | 448 (2.7 % of 16,384) | 0, 1 "
        "| distance ×10³: ACAI 2.32 ± 0.33, rank 1 of 3 (next: VAE 4.79 ± 1.03); smoothness: "
        "ACAI 0.30 ± 0.01, rank 2 of 3 (best: Baseline 0.23 ± 0.02; VAE undefined) "
        "| [reproduction](../docs/reproduction.md#table-1-at-448-kimg-all-seven-models) |")
    assert len(rows) == 2 and rows[1].startswith(
        "| Table 3, MNIST: accuracy (%) of K-means clustering of the latents | Dropout, ACAI, "
        "latent 32 and 256 | 256 (1.6 % of 16,384) | 0 | 32-d: ACAI 67.89, rank 2 of 2 (best: "
        "Dropout 71.46); 256-d: ACAI 78.25 |")


def test_render_glance_gives_the_paper_budget_mnist_values_with_their_kimg(tmp_path):
    folder = tmp_path / "paper_budget"
    folder.mkdir()
    with open(folder / "mnist_table.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(mnist_budget_tables.CSV_HEADER)
        writer.writerows([
            ("table2_classifier_training", "baseline", 256, 0, 94.98, 2368, "", 20, 2368, 16384),
            ("table3_clustering", "baseline", 256, 0, 83.05, 1024, 20, "", 2368, 16384),
            ("table3_clustering", "baseline", 256, 0, 85.5, 2048, 20, "", 2368, 16384),
            ("table2_classifier_training", "acai", 256, 0, 94.17, 832, "", 13, 832, 16384),
            ("table2_classifier_training", "acai", 32, 0, 80.0, 16384, "", 20, 16384, 16384),
            ("table3_clustering", "acai", 32, 0, 90.0, 16384, 1000, "", 16384, 16384)])
    # Only once the tables themselves are written.
    assert update_readme.render_glance(str(tmp_path)).count("\n") == 2
    (folder / "mnist_tables.md").write_text("# Tables 2 and 3\n")
    rows = update_readme.render_glance(str(tmp_path)).splitlines()[2:]
    assert len(rows) == 2
    assert rows[0].startswith(
        "| Table 2, MNIST: accuracy (%) of a single-layer classifier on the latents, toward the "
        "paper's budget | Baseline, ACAI, latent 32 and 256 | 16,384 (the paper's), still "
        "training | 0 | 32-d: ACAI 80.00 (16,384 kimg); 256-d: ACAI 94.17 (832 kimg, median of "
        "13), Baseline 94.98 (2,368 kimg) | [reproduction](docs/reproduction.md#tables-2-and-3-")
    assert ("| 32-d: ACAI 90.00 (16,384 kimg, 1,000 restarts); 256-d: ACAI not evaluated yet, "
            "Baseline 85.50 (2,048 kimg, 20 restarts) |") in rows[1]


def test_render_pretrained_gives_the_scores_and_the_checkpoint(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(METRICS))
    rendered = update_readme.render_pretrained(str(path))
    assert "| shipped ACAI model | 4.12e-4 | 0.051 |\n" in rendered
    assert "| pixel blending, same pairs | 6.20e-3 | 0.878 |\n" in rendered
    assert ("(`flags/runs/lines32_acai.flags`: lr 1e-4, batch 64, float32), seed 1, taken at "
            "**the end of the run's 16,384 kimg budget**." in rendered)


def test_render_pretrained_names_how_the_run_differs_from_the_papers(tmp_path):
    metrics = {
        "checkpoint": {"taken_at": "the end of the run's 448 kimg budget"},
        "lines_benchmark": {"pairs": 256, "steps": 16,
                            "exported_model": {"mean_distance": 2e-3, "mean_smoothness": 0.1},
                            "pixel_blending": {"mean_distance": 6e-3, "mean_smoothness": 0.9}},
        "config": {"model": {"name": "acai", "lr": 1e-4},
                   "train": {"dataset": "lines32", "batch": 64, "precision": "mixed_bfloat16",
                             "seed": 0}},
        "differs_from_paper": ["train_kimg 448 (paper 16384)", "precision mixed_bfloat16"]}
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(metrics))
    rendered = update_readme.render_pretrained(str(path))
    assert "The model is a variant of the paper's lines32 ACAI run" in rendered
    assert rendered.rstrip().endswith(
        "It differs from the paper's run in: train_kimg 448 (paper 16384); "
        "precision mixed_bfloat16.")
    metrics["differs_from_paper"] = []
    path.write_text(json.dumps(metrics))
    rendered = update_readme.render_pretrained(str(path))
    assert "The model is the paper's lines32 ACAI run" in rendered
    assert "differs" not in rendered


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
