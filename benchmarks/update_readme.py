"""Copies the generated results into README.md, so that no number in the README is typed by hand.

    python benchmarks/update_readme.py

Two sections are replaced:
- between `<!-- results:begin -->` and `<!-- results:end -->`: the Markdown files the benchmark
  commands wrote (results/*.md, and results/paper_budget/lines_table.md for the run trained
  to the paper's 16,384 kimg) with their figures; each file states its own command, budget and
  hardware;
- between `<!-- pretrained:begin -->` and `<!-- pretrained:end -->`: the shipped pretrained
  model's scores and checkpoint, from pretrained/lines32_acai/metrics.json (written by
  benchmarks/ship_pretrained.py).
"""

from __future__ import annotations

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
PRETRAINED_BEGIN, PRETRAINED_END = "<!-- pretrained:begin -->", "<!-- pretrained:end -->"
PRETRAINED_METRICS = os.path.join("pretrained", "lines32_acai", "metrics.json")
# (heading, Markdown file under results/, its figure or None, the figure's alt text), in the
# README's order.
SECTIONS = (("Lines benchmark at the paper's budget (paper Table 1, ACAI)",
             "paper_budget/lines_table.md", "paper_budget/lines_figure.png",
             "interpolations of the 16,384-kimg run"),
            ("Lines benchmark at 448 kimg, all models (paper Table 1)", "lines_table.md",
             "lines_figure.png", "interpolations of the reproduced runs"),
            ("Learning curves (lines32)", "lines_curves.md", "lines_curves.png",
             "reconstruction MSE, mean distance and smoothness against kimg"),
            ("The official code beside ours (lines32)", "official_reference.md",
             "official_reference.png", "both codes' curves at equal budgets"),
            ("MNIST representations (paper Tables 2 and 3)", "mnist_tables.md",
             "mnist_figure.png", "interpolations of the reproduced runs"),
            ("Training throughput", "throughput.md", None, None),
            ("Training throughput on a CPU without AVX-512", "throughput_avx2.md", None, None),
            ("Training throughput on an Intel Xeon with AMX", "throughput_amx.md", None, None))


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


def _exponent(value: float, decimals: int = 2) -> str:
    """0.0018188 -> '1.82e-3', 0.0001 (decimals 0) -> '1e-4': the exponent without padding."""
    mantissa, exponent = f"{value:.{decimals}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def render_pretrained(metrics_path: str) -> str:
    """The shipped model's lines scores beside pixel blending, and which checkpoint it is.

    Args:
        metrics_path: the model's metrics.json (benchmarks/ship_pretrained.py).
    """
    with open(metrics_path, encoding="utf-8") as f:
        metrics = json.load(f)
    bench, config = metrics["lines_benchmark"], metrics["config"]
    model, train = config["model"], config["train"]
    rows = [(f"shipped {model['name'].upper()} model", bench["exported_model"]),
            ("pixel blending, same pairs", bench["pixel_blending"])]
    lines = [f"| {bench['pairs']} interpolations × {bench['steps']} steps | mean distance "
             "(lower is better) | smoothness (lower is better) |", "|---|---|---|"]
    lines += [f"| {name} | {_exponent(scores['mean_distance'])} | "
              f"{scores['mean_smoothness']:.3f} |" for name, scores in rows]
    differences = metrics.get("differs_from_paper", [])
    run = "the paper's" if not differences else "a variant of the paper's"
    lines += ["", f"The model is {run} {train['dataset']} {model['name'].upper()} run "
              f"(`flags/runs/{train['dataset']}_{model['name']}.flags`: lr "
              f"{_exponent(model['lr'], 0)}, batch {train['batch']}, {train['precision']}), "
              f"seed {train['seed']}, taken at **{metrics['checkpoint']['taken_at']}**."]
    if differences:
        lines[-1] += f" It differs from the paper's run in: {'; '.join(differences)}."
    return "\n".join(lines) + "\n"


def _replace_section(text: str, begin: str, end: str, body: str) -> str:
    """`text` with what stands between the markers begin and end replaced by body.

    Raises:
        ValueError: the text has no begin ... end section.
    """
    if begin not in text or end not in text:
        raise ValueError(f"no {begin} ... {end} section")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}{end}{tail}"


def with_results(text: str, results_dir: str) -> str:
    """`text` (the README) with its results section replaced by render(results_dir).

    Raises:
        ValueError: the text has no BEGIN ... END section.
    """
    return _replace_section(text, BEGIN, END, render(results_dir))


def with_pretrained(text: str, metrics_path: str) -> str:
    """`text` (the README) with its pretrained section replaced by render_pretrained().

    Raises:
        ValueError: the text has no PRETRAINED_BEGIN ... PRETRAINED_END section.
    """
    return _replace_section(text, PRETRAINED_BEGIN, PRETRAINED_END,
                            render_pretrained(metrics_path))


def main() -> int:
    readme = os.path.join(ROOT, "README.md")
    with open(readme) as f:
        text = f.read()
    try:
        text = with_results(text, os.path.join(ROOT, "results"))
        text = with_pretrained(text, os.path.join(ROOT, PRETRAINED_METRICS))
    except ValueError as error:
        print(f"error: {readme} has {error}", file=sys.stderr)
        return 1
    with open(readme, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
