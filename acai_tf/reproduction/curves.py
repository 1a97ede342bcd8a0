"""Learning curves of the lines32 runs from their saved records: the records read, the three
panels drawn, and the table of every run (where it left the plateau, its last and Table 1's
values). `curve_reports` adds the restarts and the official code beside ours and writes the
files; the command is benchmarks/lines_curves.py.
"""

from __future__ import annotations

import collections
import json
import os
import re
from typing import Any, Sequence

import numpy as np

from acai_tf import datasets
from acai_tf.errors import UserError
from acai_tf.evaluation import protocols
from acai_tf.lines import metric
from acai_tf.outputs import atomic_write, text_tables
from acai_tf.reproduction import paper_tables, run_records
from acai_tf.serving import pretrained
from acai_tf.training import metrics_log

MODELS = ("baseline", "dropout", "denoising", "vae", "aae", "vqvae", "acai")  # paper order
RECORD = re.compile(r"^(?P<source>official_)?lines_(?P<model>[a-z]+)_seed(?P<seed>\d+)"
                    r"(?P<lost>\.lost-\w+)?$")
PLATEAU_MSE = 0.07  # the mean image scores 0.0804: below 0.07 a model draws lines
LAST_N = 20  # Table 1's protocol: the median of the last 20 evaluations
EQUAL_BUDGETS = (64, 128, 256, 448, 1024, 2048)  # kimg shown side by side with the official code
# kimg at which a restarted run is shown beside its lost runs (besides each run's last report).
RESTART_BUDGETS = (128, 448, 1024, 2048, 4096, 8192, 16384)
PANELS = (("losses/reconstruction", "reconstruction MSE (training batches)", "log"),
          ("eval/mean_distance", "mean distance (lower is better)", "log"),
          ("eval/mean_smoothness", "mean smoothness (lower is better; axis cut at 1.5)",
           "linear"))
# A model leaving the plateau can score smoothness 10 and more for a report or two (paths that
# jump between far lines): cut there, the axis keeps the converged values readable.
SMOOTHNESS_TOP = 1.5
# Line styles of a model's lost runs, oldest first (its current run is solid, official dashed).
LOST_STYLES = (":", "-.", (0, (3, 1, 1, 1, 1, 1)))


class CurvesError(UserError, RuntimeError):
    """The curves cannot be drawn; the message is one line."""


def load_records(records_dir: str) -> list[dict[str, Any]]:
    """Every lines record below records_dir: {name, source ("ours" or "official"), model, seed,
    lost, config, reports (metrics_log records in step order)}, in the paper's model order."""
    if not os.path.isdir(records_dir):
        raise CurvesError(f"{records_dir} does not exist: save the runs' records first with "
                          "python benchmarks/long_runs.py")
    found = []
    for name in sorted(os.listdir(records_dir)):
        match = RECORD.match(name)
        folder = os.path.join(records_dir, name)
        if not match or match["model"] not in MODELS:
            continue
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        found.append({"name": name, "source": "official" if match["source"] else "ours",
                      "model": match["model"], "seed": int(match["seed"]),
                      "lost": bool(match["lost"]), "config": config,
                      "reports": metrics_log.read(folder)})
    return sorted(found, key=lambda r: (MODELS.index(r["model"]), r["source"], r["seed"],
                                        r["name"]))


def series(reports: Sequence[dict[str, float]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(kimg, value) of the reports that logged `key`."""
    pairs = [(r["kimg"], r[key]) for r in reports if key in r]
    return (np.array([p[0] for p in pairs], dtype=np.float64),
            np.array([p[1] for p in pairs], dtype=np.float64))


def plateau_exit(reports: Sequence[dict[str, float]]) -> float | None:
    """kimg of the first report whose reconstruction MSE is below PLATEAU_MSE, or None."""
    kimg, mse = series(reports, "losses/reconstruction")
    below = np.flatnonzero(mse < PLATEAU_MSE)
    return float(kimg[below[0]]) if below.size else None


def pixel_blending(seed: int = 0) -> dict[str, float]:
    """Lines metrics of pixel-space cross-fades between the benchmark's 256 pairs x 16 steps
    (the pairs every lines32 run of this seed is evaluated on: test lines i and 256 + i)."""
    pairs = metric.NUM_INTERPOLATIONS
    pool = protocols.first_test_images(datasets.get_info("lines32"), None, seed, 2 * pairs)
    return metric.line_metrics(pretrained.pixel_blends(pool[:pairs], pool[pairs:2 * pairs],
                                                       metric.STEPS))


def curve_label(run: dict[str, Any], official: bool) -> str:
    """E.g. "ACAI", "VQ-VAE seed 1", "AAE (official code)", "ACAI (workdir lost at 13760 kimg)"."""
    label = paper_tables.display_name(run["model"]) + (" (official code)" if official else "")
    if run["seed"]:
        label += f" seed {run['seed']}"
    if run["lost"]:
        last = run["reports"][-1]["kimg"] if run["reports"] else 0.0
        label += f" (workdir lost at {last:g} kimg)"
    return label


def draw(path: str, runs: Sequence[dict[str, Any]], blending: dict[str, float], title: str,
         dashed_source: str | None = None) -> None:
    """Three panels (PANELS) of every run in `runs`; runs of `dashed_source` are dashed."""
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    from matplotlib import pyplot, ticker  # pylint: disable=import-outside-toplevel

    colours = dict(zip(MODELS, pyplot.get_cmap("tab10").colors))
    colours["acai"] = "black"  # the headline model stands out from the six others
    figure, axes = pyplot.subplots(1, len(PANELS), figsize=(6 * len(PANELS), 4.6))
    # Lost runs of one model and seed, oldest first: dotted, then dash-dotted, ...
    lost_style, lost_before = {}, collections.Counter()
    for run in (run for run in runs if run["lost"]):  # runs come oldest first within a group
        group = (run["model"], run["seed"], run["source"])
        lost_style[run["name"]] = LOST_STYLES[lost_before[group] % len(LOST_STYLES)]
        lost_before[group] += 1
    for axis, (key, label, scale) in zip(axes, PANELS):
        for run in runs:
            kimg, values = series(run["reports"], key)
            if not kimg.size:
                continue
            official = run["source"] == dashed_source
            # A lost run is unmarked (dense markers would draw it solid) and lighter.
            axis.plot(kimg, values, color=colours[run["model"]],
                      linestyle="--" if official else lost_style.get(run["name"], "-"),
                      alpha=0.6 if run["lost"] else 1.0 if run["seed"] == 0 else 0.35,
                      linewidth=1.6 if run["lost"] else 1.4,
                      marker="" if run["lost"] else ".", markersize=3,
                      label=curve_label(run, official))
        if key == "losses/reconstruction":
            axis.axhline(PLATEAU_MSE, color="grey", linestyle=":", linewidth=1,
                         label=f"plateau line ({PLATEAU_MSE})")
        else:
            blend = axis.axhline(blending[key.split("/")[1]], color="grey", linestyle="--",
                                 linewidth=1, label="pixel blending (same pairs)")
            axis.legend(handles=[blend], fontsize=7, loc="upper right")
        if key == "eval/mean_smoothness":
            axis.set_ylim(0, SMOOTHNESS_TOP)
        axis.set_xscale("log", base=2)  # reports fall on powers of two
        axis.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        axis.set_yscale(scale)
        axis.set_xlabel("kimg (thousands of training images)")
        axis.set_title(label)
        axis.grid(True, which="both", alpha=0.25)
    axes[0].legend(fontsize=7, loc="lower left")  # after the others: it lists the models
    figure.suptitle(title)
    figure.tight_layout()
    with atomic_write.replacing(path, "wb") as f:
        figure.savefig(f, format="png", dpi=90)
    pyplot.close(figure)


def value_cell(number: float | None, scale: float = 1.0, digits: int = 2) -> str:
    """A table cell: number x scale with `digits` decimals, "-" for None, "undefined" for NaN."""
    if number is None:
        return "-"
    return "undefined" if np.isnan(number) else f"{number * scale:.{digits}f}"


def last_and_table1(reports: Sequence[dict[str, float]]) -> list[str]:
    """Mean distance (x10^3) and smoothness of `reports`, each as its last value and Table 1's
    (the median of the last LAST_N), formatted: four cells, "-" where nothing was logged."""
    cells = []
    for key, scale in (("eval/mean_distance", 1e3), ("eval/mean_smoothness", 1.0)):
        _, values = series(reports, key)
        cells += [value_cell(values[-1] if values.size else None, scale),
                  value_cell(float(np.median(values[-LAST_N:])) if values.size else None, scale)]
    return cells


def run_row(run: dict[str, Any]) -> list[str]:
    """One table row: record, kimg, reports, cadence, plateau exit, last and Table-1 values,
    precision and commits."""
    reports = run["reports"]
    kimg = reports[-1]["kimg"] if reports else 0.0
    cadence = reports[1]["kimg"] - reports[0]["kimg"] if len(reports) > 1 else None
    exit_kimg = plateau_exit(reports)
    plateau = f"{exit_kimg:g}" if exit_kimg is not None else f"not by {kimg:g}"
    starts = run["config"].get("runs") or [{}]
    commits = ", ".join(dict.fromkeys(str(s.get("commit", "?"))[:7] for s in starts))
    precision = run_records.precision_history(run["config"].get("train", {}),
                                              run["config"].get("runs") or [])
    every = f"{cadence:g}" if cadence else "-"
    return [run["name"], f"{kimg:g}", str(len(reports)), every, plateau,
            *last_and_table1(reports), precision, commits]


TABLE_HEADER = ["record", "kimg", "reports", "every (kimg)", "left the plateau at (kimg)",
                "distance x10^3, last", "distance x10^3, Table 1", "smoothness, last",
                "smoothness, Table 1", "precision", "commits"]


def table(runs: Sequence[dict[str, Any]], blending: dict[str, float]) -> str:
    """The runs' rows and pixel blending's, with the column definitions."""
    blending_row = ["pixel blending (same pairs)", "-", "-", "-", "-",
                    f"{blending['mean_distance'] * 1e3:.2f}", "-",
                    f"{blending['mean_smoothness']:.2f}", "-", "-", "-"]
    rows = text_tables.markdown(TABLE_HEADER, [*(run_row(run) for run in runs), blending_row])
    return "\n".join(rows) + (
        "\n\n`left the plateau at`: the first report whose reconstruction MSE (training batches, "
        f"`losses/reconstruction`) is below {PLATEAU_MSE}; the plateau is the decoder drawing the "
        "mean image (MSE 0.080). `Table 1`: the median of the last "
        f"{LAST_N} reports (the paper's protocol, whatever the run's length). `.lost-` records "
        "belong to a run whose workdir was lost and that restarted from step 0.\n")
