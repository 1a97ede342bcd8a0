"""Tests of benchmarks/update_readme.py: the README's results section is the generated one."""

import json
import os
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import update_readme  # noqa: E402  pylint: disable=wrong-import-position


def test_readme_results_section_is_exactly_what_the_results_files_generate():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    regenerated = update_readme.with_results(readme, os.path.join(ROOT, "results"))
    assert regenerated == readme, "run `python benchmarks/update_readme.py`"


def test_render_names_missing_results_and_embeds_each_file(tmp_path):
    (tmp_path / "throughput.md").write_text("# Training throughput\n\n| a |\n")
    rendered = update_readme.render(str(tmp_path))
    assert ("### Lines benchmark at 448 kimg, all models (paper Table 1)\n\nNot generated yet "
            "(`lines_table.md`") in rendered
    assert ("### Lines benchmark at the paper's budget (paper Table 1, ACAI)\n\nNot generated "
            "yet (`paper_budget/lines_table.md` is missing)") in rendered
    assert "### Training throughput\n\n# Training throughput\n\n| a |\n" in rendered
    assert "lines_figure.png" not in rendered
    assert ("### Training throughput on a CPU without AVX-512\n\n"
            "Not generated yet (`throughput_avx2.md` is missing)") in rendered
    assert ("### Training throughput on an Intel Xeon with AMX\n\n"
            "Not generated yet (`throughput_amx.md` is missing)") in rendered
    assert "### MNIST representations (paper Tables 2 and 3)\n\nNot generated yet" in rendered
    (tmp_path / "lines_figure.png").write_bytes(b"png")
    (tmp_path / "lines_table.md").write_text("# Table 1\n")
    rendered = update_readme.render(str(tmp_path))
    assert "](results/lines_figure.png)" in rendered and "mnist_figure.png" not in rendered
    # Each figure follows its own section.
    assert rendered.index("# Table 1") < rendered.index("lines_figure.png") < rendered.index(
        "### MNIST")
    # The paper-budget table lives in a folder of its own and comes first, with its figure.
    (tmp_path / "paper_budget").mkdir()
    (tmp_path / "paper_budget" / "lines_table.md").write_text("# Table 1 at 16384 kimg\n")
    (tmp_path / "paper_budget" / "lines_figure.png").write_bytes(b"png")
    rendered = update_readme.render(str(tmp_path))
    assert (rendered.index("# Table 1 at 16384 kimg")
            < rendered.index("](results/paper_budget/lines_figure.png)")
            < rendered.index("### Lines benchmark at 448 kimg")
            < rendered.index("](results/lines_figure.png)"))


def test_readme_pretrained_section_is_what_the_shipped_metrics_generate():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    regenerated = update_readme.with_pretrained(
        readme, os.path.join(ROOT, update_readme.PRETRAINED_METRICS))
    assert regenerated == readme, "run `python benchmarks/update_readme.py`"


def test_render_pretrained_gives_the_scores_and_the_checkpoint(tmp_path):
    metrics = {
        "checkpoint": {"taken_at": "the end of the run's 16,384 kimg budget"},
        "lines_benchmark": {"pairs": 256, "steps": 16,
                            "exported_model": {"mean_distance": 0.00041249,
                                               "mean_smoothness": 0.0512},
                            "pixel_blending": {"mean_distance": 0.0062021,
                                               "mean_smoothness": 0.87819}},
        "config": {"model": {"name": "acai", "lr": 1e-4},
                   "train": {"dataset": "lines32", "batch": 64, "precision": "float32",
                             "seed": 1}}}
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(metrics))
    rendered = update_readme.render_pretrained(str(path))
    assert "| shipped ACAI model | 4.12e-4 | 0.051 |\n" in rendered
    assert "| pixel blending, same pairs | 6.20e-3 | 0.878 |\n" in rendered
    assert ("(`flags/runs/lines32_acai.flags`: lr 1e-4, batch 64, float32), seed 1, taken at "
            "**the end of the run's 16,384 kimg budget**." in rendered)
    text = "a\n<!-- pretrained:begin -->\nold\n<!-- pretrained:end -->\nb\n"
    assert update_readme.with_pretrained(text, str(path)) == (
        f"a\n<!-- pretrained:begin -->\n{rendered}<!-- pretrained:end -->\nb\n")
    with pytest.raises(ValueError, match="no <!-- pretrained:begin -->"):
        update_readme.with_pretrained("a\n", str(path))


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
