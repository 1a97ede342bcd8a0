"""Tests of benchmarks/update_readme.py: the README's results section is the generated one."""

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
    assert "### Lines benchmark (paper Table 1)\n\nNot generated yet (`lines_table.md`" in rendered
    assert "### Training throughput\n\n# Training throughput\n\n| a |\n" in rendered
    assert "lines_figure.png" not in rendered
    assert "### MNIST representations (paper Tables 2 and 3)\n\nNot generated yet" in rendered
    (tmp_path / "lines_figure.png").write_bytes(b"png")
    (tmp_path / "lines_table.md").write_text("# Table 1\n")
    rendered = update_readme.render(str(tmp_path))
    assert "](results/lines_figure.png)" in rendered and "mnist_figure.png" not in rendered
    # Each figure follows its own section.
    assert rendered.index("# Table 1") < rendered.index("lines_figure.png") < rendered.index(
        "### MNIST")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
