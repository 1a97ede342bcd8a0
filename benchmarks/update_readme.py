"""Writes the generated blocks of README.md and docs/, so that no number there is typed by hand.

    python benchmarks/update_readme.py            # rewrite the blocks from results/
    python benchmarks/update_readme.py --check    # write nothing; exit 1 if a page is stale

A page marks a block with `<!-- NAME:begin -->` and `<!-- NAME:end -->`; each block stands on
exactly one of the PAGES:
- `glance`: the README's results table, a row per reproduced table of the paper, from each
  reproduction's `*_reproduction.json` (budget, seeds) and `*_table.csv` (numbers); the MNIST
  rows at the paper's budget come from `paper_budget/mnist_table.csv`
  (`benchmarks/mnist_budget_tables.py`, runs that may still be training: every value with its
  kimg);
- `pretrained`: the shipped model's scores and checkpoint, from its metrics.json;
- `results:FILE`: a Markdown file a benchmark command wrote under results/ (its header states
  its command, budget and hardware), with its figure.
"""

from __future__ import annotations

import collections
import csv
import json
import math
import os
import re
import sys

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Run as a script, only benchmarks/ is on sys.path: the library is this checkout's.
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# pylint: disable=wrong-import-position
from acai_tf.cli import runner  # first: it quiets TensorFlow's start-up (quiet_start)
from acai_tf.outputs import atomic_write, text_tables
from acai_tf.errors import UserError
from acai_tf.reproduction import mnist_budget_tables

PAGES = ("README.md", "docs/reproduction.md", "docs/performance.md")
PRETRAINED_METRICS = os.path.join("pretrained", "lines32_acai", "metrics.json")
PAPER_KIMG = 16384
MODEL_NAMES = {"baseline": "Baseline", "dropout": "Dropout", "denoising": "Denoising",
               "vae": "VAE", "aae": "AAE", "vqvae": "VQ-VAE", "acai": "ACAI"}
# Results file under results/ -> (its figure or None, the figure's alt text, a results file
# whose table rows it leaves out: the official code's table lists this project's runs too,
# which the learning curves' table has already printed).
SECTIONS = {
    "paper_budget/lines_table.md": ("paper_budget/lines_figure.png",
                                    "interpolations of the 16,384-kimg ACAI run", None),
    "paper_budget/mnist_tables.md": (None, None, None),
    "lines_table.md": ("lines_figure.png", "interpolations of the 448-kimg runs", None),
    "lines_curves.md": ("lines_curves.png", "MSE, distance and smoothness per kimg", None),
    "official_reference.md": ("official_reference.png", "official code beside ours",
                              "lines_curves.md"),
    "mnist_tables.md": ("mnist_figure.png", "MNIST interpolations at 256 kimg", None),
    **{name: (None, None, None) for name in
       ("throughput.md", "throughput_avx2.md", "throughput_amx.md")},
}
_LINES = (("Mean distance (×10³)", "distance ×10³", True),
          ("Mean smoothness", "smoothness", True))
_ACCURACY, _MNIST = (("Accuracy (%)", "accuracy %", False),), "tables-2-and-3-on-mnist"
# The MNIST tables at the paper's budget (from the long runs' records, with a kimg per value),
# and their heading in docs/reproduction.md.
_MNIST_BUDGET = "paper_budget/mnist"
_MNIST_BUDGET_DOCS = "tables-2-and-3-mnist-at-the-papers-budget-from-the-long-runs-records"
# The README's results table: (the paper's table, results/<stem>_reproduction.json and
# _table.csv, the CSV's protocol, its metrics as (name, label, lower is better), whether each
# latent size is ranked apart, the section of docs/reproduction.md that reads it). The rows of
# _MNIST_BUDGET are `_budget_row`'s: they give each value's kimg instead of a rank.
GLANCE = (
    ("Table 1, lines32 interpolation, at the paper's budget", "paper_budget/lines", "training",
     _LINES, False, "table-1-at-the-papers-budget"),
    ("Table 1, lines32 interpolation", "lines", "training", _LINES, False,
     "table-1-at-448-kimg-all-seven-models"),
    ("Table 2, MNIST: accuracy (%) of a single-layer classifier on the latents, toward the "
     "paper's budget", _MNIST_BUDGET, mnist_budget_tables.TRAINING, _ACCURACY, True,
     _MNIST_BUDGET_DOCS),
    ("Table 2, MNIST: accuracy (%) of a single-layer classifier on the latents", "mnist",
     "table2_classifier_training", _ACCURACY, True, _MNIST),
    ("Table 3, MNIST: accuracy (%) of K-means clustering of the latents, toward the paper's "
     "budget", _MNIST_BUDGET, mnist_budget_tables.KMEANS, _ACCURACY, True, _MNIST_BUDGET_DOCS),
    ("Table 3, MNIST: accuracy (%) of K-means clustering of the latents", "mnist",
     "table3_clustering", _ACCURACY, True, _MNIST),
    ("Beyond the paper, MNIST: accuracy (%) of a linear probe on the latents", "mnist",
     "table2_probe", _ACCURACY, True, _MNIST),
)
_BLOCK = re.compile(r"<!-- (\S+):begin -->\n(.*?)<!-- \1:end -->", re.DOTALL)


def _without_repeats(text: str, printed: str, other: str) -> str:
    """`text` without the paragraphs and table rows (header rows aside) that `printed`, the
    content of results file `other`, has already shown."""
    rows, paragraphs, kept = set(printed.splitlines()), set(printed.split("\n\n")), []
    for paragraph in text.split("\n\n"):
        if paragraph in paragraphs:
            continue
        if paragraph.startswith("|"):
            lines = paragraph.splitlines()
            left_out = [line.split("|")[1].strip() for line in lines[2:] if line in rows]
            paragraph = "\n".join(lines[:2] + [line for line in lines[2:] if line not in rows])
            if left_out:
                paragraph += (f"\n\nRows printed from `results/{other}` are not repeated: "
                              f"{', '.join(left_out)}.")
        kept.append(paragraph)
    return "\n\n".join(kept)


def render_section(results_dir: str, name: str, prefix: str = "") -> str:
    """Results file `name` (a SECTIONS key) as a block: its headings below the page's `##` (title
    `###`, the rest `####`), then its figure, linked through `prefix` (the page's way to root)."""
    figure, alt, other = SECTIONS[name]
    path = os.path.join(results_dir, name)
    if not os.path.isfile(path):
        return f"Not generated yet (`results/{name}` is missing).\n"
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    if other and os.path.isfile(os.path.join(results_dir, other)):
        with open(os.path.join(results_dir, other), encoding="utf-8") as f:
            text = _without_repeats(text, f.read().strip(), other)
    text = re.sub(r"^(#+) ", lambda m: "### " if len(m.group(1)) == 1 else "#### ", text,
                  flags=re.MULTILINE)
    if figure and os.path.isfile(os.path.join(results_dir, figure)):
        text += f"\n\n![{alt}]({prefix}results/{figure})"
    return text + "\n"


def _ranking(rows: list[dict], lower: bool) -> str:
    """ACAI's value (else the best) among `rows` (CSV rows of one metric and latent size), its
    rank and the next or best value: 'ACAI 2.32 ± 0.33, rank 1 of 7 (next: VAE 4.79 ± 1.03)'.
    A NaN value is 'undefined' and has no rank."""
    def value(row: dict) -> str:
        mean, std, name = float(row["mean"]), float(row["std"]), MODEL_NAMES[row["model"]]
        if math.isnan(mean):
            return f"{name} undefined"
        return f"{name} {mean:.2f}" + (f" ± {std:.2f}" if int(row["runs"]) > 1 else "")

    scored = sorted((row for row in rows if not math.isnan(float(row["mean"]))),
                    key=lambda row: float(row["mean"]) * (1 if lower else -1))
    focus = next((row for row in rows if row["model"] == "acai"), (scored or rows)[0])
    if len(rows) == 1 or focus not in scored:
        return value(focus)
    rank = scored.index(focus)
    notes = [f"next: {value(scored[1])}"] if rank == 0 and len(scored) > 1 else []
    notes += [f"best: {value(scored[0])}"] if rank > 0 else []
    undefined = [MODEL_NAMES[row["model"]] for row in rows if row not in scored]
    notes += [f"{', '.join(undefined)} undefined"] if undefined else []
    return (f"{value(focus)}, rank {rank + 1} of {len(rows)}"
            + (f" ({'; '.join(notes)})" if notes else ""))


def render_glance(results_dir: str, prefix: str = "") -> str:
    """The README's results table (GLANCE); a reproduction whose files are missing has no row."""
    table = []
    for title, stem, protocol, metrics, by_latent, details in GLANCE:
        if stem == _MNIST_BUDGET:
            row = _budget_row(results_dir, title, protocol,
                              f"[reproduction]({prefix}docs/reproduction.md#{details})")
            table += [row] if row else []
            continue
        paths = [os.path.join(results_dir, stem + e) for e in ("_reproduction.json", "_table.csv")]
        if not all(os.path.isfile(path) for path in paths):
            continue
        with open(paths[0], encoding="utf-8") as f, open(paths[1], encoding="utf-8") as g:
            run, rows = json.load(f), [r for r in csv.DictReader(g) if r["protocol"] == protocol]
        if not rows:
            continue
        models = [m for m in MODEL_NAMES if any(r["model"] == m for r in rows)]
        latents = sorted({int(row["latent_dim"]) for row in rows})
        cells = []
        for metric, label, lower in metrics:
            of_metric = [row for row in rows if row["metric"] == metric]
            groups = ([(f"{latent}-d: ", [r for r in of_metric if int(r["latent_dim"]) == latent])
                       for latent in latents] if by_latent else [("", of_metric)])
            ranks = "; ".join(head + _ranking(group, lower) for head, group in groups if group)
            cells.append(f"{label}: {ranks}" if len(metrics) > 1 else ranks)
        kimg = run["train"]["train_kimg"]
        budget = f"{kimg:,.0f}" + (" (the paper's)" if kimg == PAPER_KIMG else
                                   f" ({100 * kimg / PAPER_KIMG:.1f} % of {PAPER_KIMG:,})")
        names = ("all seven" if len(models) == len(MODEL_NAMES) else
                 ", ".join(MODEL_NAMES[m] for m in models))
        if by_latent:
            names += f", latent {' and '.join(str(latent) for latent in latents)}"
        table.append((title, names, budget, ", ".join(str(s) for s in run["seeds"]),
                      "; ".join(cells), f"[reproduction]({prefix}docs/reproduction.md#{details})"))
    header = ("paper's table", "models", "budget (kimg)", "seeds", "our numbers", "details")
    return "\n".join(text_tables.markdown(header, table)) + "\n"


def _budget_row(results_dir: str, title: str, table: str, link: str) -> tuple | None:
    """The GLANCE row of `table` (a `table` of paper_budget/mnist_table.csv) from the MNIST
    tables at the paper's budget: per latent size, each run's newest value with its kimg (a
    K-means value with its restarts), ACAI first; the budget says when runs are still training.
    None until `benchmarks/mnist_budget_tables.py` has written its tables."""
    folder = os.path.join(results_dir, os.path.dirname(_MNIST_BUDGET))
    paths = [os.path.join(folder, name) for name in (mnist_budget_tables.MARKDOWN,
                                                     mnist_budget_tables.CSV)]
    if not all(os.path.isfile(path) for path in paths):
        return None
    with open(paths[1], encoding="utf-8", newline="") as f:
        every = list(csv.DictReader(f))
    order = ["acai"] + [model for model in MODEL_NAMES if model != "acai"]
    runs = sorted({(int(row["latent_dim"]), order.index(row["model"]), int(row["seed"])): row
                   for row in every}.items())
    newest: dict[tuple, dict] = {}
    for row in every:
        key = (int(row["latent_dim"]), order.index(row["model"]), int(row["seed"]))
        if row["table"] == table and (key not in newest or
                                      float(row["kimg"]) > float(newest[key]["kimg"])):
            newest[key] = row
    if not newest:
        return None
    groups: dict[int, list[str]] = {}
    for (latent, _, seed), run in runs:
        name = MODEL_NAMES[run["model"]] + (f" seed {seed}" if seed else "")
        row = newest.get((latent, order.index(run["model"]), seed))
        groups.setdefault(latent, []).append(f"{name} " + (mnist_budget_tables.Cell(
            float(row["value"]), float(row["kimg"]),
            n_init=int(row["n_init"]) if row["n_init"] else None,
            reports=int(row["reports"]) if row["reports"] else None).text()
            if row else "not evaluated yet"))
    budgets = sorted({float(run["train_kimg"]) for _, run in runs}, reverse=True)
    budget = " or ".join(f"{kimg:,.0f}" + (" (the paper's)" if kimg == PAPER_KIMG else "")
                         for kimg in budgets)
    if any(float(run["run_kimg"]) < float(run["train_kimg"]) for _, run in runs):
        budget += ", still training"
    models = [MODEL_NAMES[model] for model in MODEL_NAMES if any(run["model"] == model
                                                                 for _, run in runs)]
    return (title, f"{', '.join(models)}, latent {' and '.join(map(str, groups))}", budget,
            ", ".join(sorted({run["seed"] for _, run in runs}, key=int)),
            "; ".join(f"{latent}-d: {', '.join(cells)}" for latent, cells in groups.items()),
            link)


def _exponent(value: float, decimals: int = 2) -> str:
    """0.0018188 -> '1.82e-3', 0.0001 (decimals 0) -> '1e-4': the exponent without padding."""
    mantissa, exponent = f"{value:.{decimals}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def render_pretrained(metrics_path: str) -> str:
    """The shipped model's lines scores beside pixel blending, and which checkpoint it is, from
    its metrics.json (`metrics_path`, written by benchmarks/ship_pretrained.py)."""
    with open(metrics_path, encoding="utf-8") as f:
        metrics = json.load(f)
    bench, config = metrics["lines_benchmark"], metrics["config"]
    model, train = config["model"], config["train"]
    rows = [(f"shipped {model['name'].upper()} model", bench["exported_model"]),
            ("pixel blending, same pairs", bench["pixel_blending"])]
    lines = text_tables.markdown(
        (f"{bench['pairs']} interpolations × {bench['steps']} steps",
         "mean distance (lower is better)", "smoothness (lower is better)"),
        [(name, _exponent(scores["mean_distance"]), f"{scores['mean_smoothness']:.3f}")
         for name, scores in rows])
    differences = metrics.get("differs_from_paper", [])
    run = "the paper's" if not differences else "a variant of the paper's"
    lines += ["", f"The model is {run} {train['dataset']} {model['name'].upper()} run "
              f"(`flags/runs/{train['dataset']}_{model['name']}.flags`: lr "
              f"{_exponent(model['lr'], 0)}, batch {train['batch']}, {train['precision']}), "
              f"seed {train['seed']}, taken at **{metrics['checkpoint']['taken_at']}**."]
    if differences:
        lines[-1] += f" It differs from the paper's run in: {'; '.join(differences)}."
    return "\n".join(lines) + "\n"


def blocks(root: str, page: str) -> dict[str, str]:
    """Every generated block's name and its body as written on `page` (a path below root)."""
    results, prefix = os.path.join(root, "results"), "../" * page.count("/")
    bodies = {"glance": render_glance(results, prefix),
              "pretrained": render_pretrained(os.path.join(root, PRETRAINED_METRICS))}
    return bodies | {f"results:{name}": render_section(results, name, prefix) for name in SECTIONS}


def update(root: str, check: bool = False) -> list[str]:
    """Rewrites the generated blocks of the PAGES below `root` (unless `check`) and returns
    the pages whose blocks differed. Raises UserError when a page is missing, or a block is
    unknown or stands on no page or on two."""
    texts = {}
    for page in PAGES:
        try:
            with open(os.path.join(root, page), encoding="utf-8") as f:
                texts[page] = f.read()
        except FileNotFoundError as error:
            raise UserError(f"{page} is missing") from error
    found = collections.Counter(name for text in texts.values() for name, _ in _BLOCK.findall(text))
    known = blocks(root, PAGES[0])
    for name in sorted(set(known) | set(found)):
        if name not in known:
            raise UserError(f"unknown generated block {name} in {', '.join(PAGES)}")
        if found[name] != 1:
            where = "no page" if not found[name] else f"{found[name]} places"
            raise UserError(f"generated block {name} is on {where} of {', '.join(PAGES)}")
    changed = []
    for page, text in texts.items():
        bodies = blocks(root, page)
        new = _BLOCK.sub(
            lambda m, b=bodies: f"<!-- {m[1]}:begin -->\n{b[m[1]]}<!-- {m[1]}:end -->", text)
        if new != text:
            changed.append(page)
            if not check:
                atomic_write.write_text(os.path.join(root, page), new)
    return changed


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    with runner.one_line_errors():
        changed = update(ROOT, check=flags.FLAGS.check)
    if flags.FLAGS.check and changed:
        runner.fail(f"out of date: {', '.join(changed)} (run python benchmarks/update_readme.py)")
    print(f"rewrote {', '.join(changed)}" if changed else "up to date")


if __name__ == "__main__":
    flags.DEFINE_bool("check", False, "Write nothing; exit 1 when a page's generated blocks "
                      "differ from what results/ generates.")
    app.run(main, flags_parser=runner.parse_or_exit)
