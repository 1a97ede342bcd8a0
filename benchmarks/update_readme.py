"""Copies the generated results (results/*.md) into README.md's results section.

    python benchmarks/update_readme.py

The section between the `<!-- results:begin -->` and `<!-- results:end -->` markers is
replaced by the Markdown files the benchmark commands wrote, so that no number in the README
is typed by hand. Each file states its own command, budget and hardware.
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
# (heading, Markdown file under results/, its figure or None, the figure's alt text), in the
# README's order.
SECTIONS = (("Lines benchmark (paper Table 1)", "lines_table.md", "lines_figure.png",
             "interpolations of the reproduced runs"),
            ("Learning curves (lines32)", "lines_curves.md", "lines_curves.png",
             "reconstruction MSE, mean distance and smoothness against kimg"),
            ("The official code beside ours (lines32)", "official_reference.md",
             "official_reference.png", "both codes' curves at equal budgets"),
            ("MNIST representations (paper Tables 2 and 3)", "mnist_tables.md",
             "mnist_figure.png", "interpolations of the reproduced runs"),
            ("Training throughput", "throughput.md", None, None))


def render(results_dir: str) -> str:
    parts = []
    for heading, name, figure, alt in SECTIONS:
        path = os.path.join(results_dir, name)
        if os.path.isfile(path):
            with open(path) as f:
                parts.append(f"### {heading}\n\n{f.read().strip()}\n")
        else:
            parts.append(f"### {heading}\n\nNot generated yet (`{name}` is missing).\n")
        if figure and os.path.isfile(os.path.join(results_dir, figure)):
            parts.append(f"![{heading}: {alt}](results/{figure})\n")
    return "\n".join(parts)


def with_results(text: str, results_dir: str) -> str:
    """`text` (the README) with its results section replaced by render(results_dir).

    Raises:
        ValueError: the text has no BEGIN ... END section.
    """
    if BEGIN not in text or END not in text:
        raise ValueError(f"no {BEGIN} ... {END} section")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{render(results_dir)}{END}{tail}"


def main() -> int:
    readme = os.path.join(ROOT, "README.md")
    with open(readme) as f:
        text = f.read()
    try:
        text = with_results(text, os.path.join(ROOT, "results"))
    except ValueError as error:
        print(f"error: {readme} has {error}", file=sys.stderr)
        return 1
    with open(readme, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
