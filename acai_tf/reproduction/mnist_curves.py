"""Learning curves of the MNIST runs toward the paper's budget: Tables 2 and 3 as curves.

    runs = mnist_curves.load_records("results/runs")
    mnist_curves.draw("results/mnist_curves.png", runs)

Reads the records that `benchmarks/long_runs.py` saves for every MNIST run
(`mnist_<model>_latent<L>_seed<k>/`: config.json, metrics.jsonl, eval/results.json, and
milestones/<checkpoint>.json, the evaluations of checkpoints kept at chosen kimg) and draws,
against kimg on a log axis, the in-training classifier's test accuracy (`eval/latent_accuracy`,
Table 2's quantity, logged every report) with one colour per model (ACAI black), solid for
256-d latents and dashed for 32-d. Each evaluated checkpoint with a K-means result (Table 3's
quantity) adds a marker at its kimg in the run's colour. The table gives, per run, its kimg, its
last accuracy and Table 2's cell (the median of the last 20 reports), and its K-means points.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Sequence

import numpy as np

from acai_tf.errors import UserError
from acai_tf.outputs import atomic_write, text_tables
from acai_tf.reproduction import paper_tables
from acai_tf.training import metrics_log

MODELS = ("baseline", "dropout", "denoising", "vae", "aae", "vqvae", "acai")  # paper order
RECORD = re.compile(r"^mnist_(?P<model>[a-z]+)_latent(?P<latent>\d+)_seed(?P<seed>\d+)$")
ACCURACY = "eval/latent_accuracy"
LAST_N = 20  # Table 2's protocol: the median of the last 20 evaluations
MILESTONES_DIR = "milestones"  # evaluations of kept checkpoints: milestones/<step>.json


class CurvesError(UserError, RuntimeError):
    """The curves cannot be drawn; the message is one line."""


def load_records(records_dir: str) -> list[dict[str, Any]]:
    """Every MNIST record below `records_dir`, in the paper's model order then latent size:
    {name, model, latent_dim, seed, folder, config (its config.json), reports, evaluations
    (see `evaluations`), kmeans: [(kimg, accuracy %)]}.

    Only folders named as a run's record count: a `.lost-<start>` folder (the records of a run
    that was lost and restarted from step 0) is never read, so two runs are never spliced."""
    if not os.path.isdir(records_dir):
        raise CurvesError(f"{records_dir} does not exist: save the runs' records first with "
                          "python benchmarks/long_runs.py")
    found = []
    for name in sorted(os.listdir(records_dir)):
        match = RECORD.match(name)
        if not match or match["model"] not in MODELS:
            continue
        folder = os.path.join(records_dir, name)
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        model = config["model"]
        found.append({"name": name, "model": match["model"], "seed": int(match["seed"]),
                      "latent_dim": int(model["latent"]) * int(model["latent_width"]) ** 2,
                      "folder": folder, "config": config, "reports": metrics_log.read(folder),
                      "evaluations": evaluations(folder), "kmeans": kmeans_points(folder)})
    return sorted(found, key=lambda r: (MODELS.index(r["model"]), r["latent_dim"], r["seed"]))


def evaluations(folder: str) -> list[dict[str, Any]]:
    """The checkpoint evaluations saved in a record, one per kimg, in kimg order.

    Each is an eval/results.json as `acai_tf.evaluation.checkpoint_eval` writes it (keys "kimg",
    "classifier", "clustering", ...): the milestones' and, once the run has finished, its final
    one. Two at the same kimg (a milestone and the final evaluation of the same checkpoint)
    keep the one with more K-means restarts (`clustering.n_init`), the final one on a tie.
    """
    paths = []
    milestones = os.path.join(folder, MILESTONES_DIR)
    if os.path.isdir(milestones):
        paths += [os.path.join(milestones, name) for name in sorted(os.listdir(milestones))
                  if name.endswith(".json")]
    paths.append(os.path.join(folder, "eval", "results.json"))
    by_kimg: dict[float, dict[str, Any]] = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                results = json.load(f)
        except FileNotFoundError:
            continue
        kimg = float(results["kimg"])
        if restarts(results) >= restarts(by_kimg.get(kimg, {})):
            by_kimg[kimg] = results
    return [by_kimg[kimg] for kimg in sorted(by_kimg)]


def restarts(results: dict[str, Any]) -> int:
    """The K-means restarts of an evaluation (0 without a clustering result)."""
    return int((results.get("clustering") or {}).get("n_init") or 0)


def kmeans_points(folder: str) -> list[tuple[float, float]]:
    """(kimg, K-means accuracy %) of every evaluation saved in a record, in kimg order."""
    return [(float(results["kimg"]), float(results["clustering"]["accuracy"]))  # already in %
            for results in evaluations(folder)
            if (results.get("clustering") or {}).get("accuracy") is not None]


def accuracy_series(reports: Sequence[dict[str, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(kimg, accuracy %) of the reports that logged the in-training classifier."""
    pairs = [(r["kimg"], r[ACCURACY]) for r in reports if ACCURACY in r]
    return (np.array([p[0] for p in pairs], dtype=np.float64),
            np.array([p[1] for p in pairs], dtype=np.float64))


def label(run: dict[str, Any]) -> str:
    """E.g. "ACAI 256-d" or "VAE 32-d seed 1"."""
    text = f"{paper_tables.display_name(run['model'])} {run['latent_dim']}-d"
    return text + (f" seed {run['seed']}" if run["seed"] else "")


def draw(path: str, runs: Sequence[dict[str, Any]]) -> None:
    """One panel: accuracy against kimg for every run, K-means points as markers."""
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    from matplotlib import pyplot, ticker  # pylint: disable=import-outside-toplevel

    colours = dict(zip(MODELS, pyplot.get_cmap("tab10").colors))
    colours["acai"] = "black"  # the headline model stands out from the six others
    figure, axis = pyplot.subplots(figsize=(8, 5))
    for run in runs:
        kimg, accuracy = accuracy_series(run["reports"])
        style = "-" if run["latent_dim"] > 32 else "--"
        if kimg.size:
            axis.plot(kimg, accuracy, color=colours[run["model"]], linestyle=style,
                      linewidth=1.3, label=label(run) + " classifier")
        if run["kmeans"]:
            axis.plot(*zip(*run["kmeans"]), color=colours[run["model"]], linestyle="none",
                      marker="o" if run["latent_dim"] > 32 else "s", markersize=6,
                      markerfacecolor="none", label=label(run) + " K-means")
    axis.set_xscale("log", base=2)  # reports fall on multiples of 64 kimg
    axis.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
    axis.set_xlabel("kimg (thousands of training images)")
    axis.set_ylabel("test accuracy (%)")
    axis.set_title("MNIST: single-layer classifier on the latents (lines), K-means (markers)")
    axis.grid(True, which="both", alpha=0.25)
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    with atomic_write.replacing(path, "wb") as f:
        figure.savefig(f, format="png", dpi=90)
    pyplot.close(figure)


def table(runs: Sequence[dict[str, Any]]) -> str:
    """Markdown: per run its kimg, reports, last accuracy, Table 2's cell and K-means points."""
    rows = []
    for run in runs:
        kimg, accuracy = accuracy_series(run["reports"])
        last = run["reports"][-1]["kimg"] if run["reports"] else 0.0
        median = (f"{np.median(accuracy[-LAST_N:]):.2f} (last {min(LAST_N, accuracy.size)})"
                  if accuracy.size else "-")
        points = ", ".join(f"{value:.2f} at {at:g}" for at, value in run["kmeans"]) or "-"
        rows.append([run["name"], f"{last:g}", str(len(run["reports"])),
                     f"{accuracy[-1]:.2f}" if accuracy.size else "-", median, points])
    header = ["record", "kimg", "reports", "classifier accuracy (%), last",
              "median of the last 20 (Table 2)", "K-means (%) at kimg"]
    return "\n".join(text_tables.markdown(header, rows)) + "\n"


def write(records_dir: str, out_dir: str) -> list[str]:
    """Writes mnist_curves.png and mnist_curves.md into out_dir; returns their paths."""
    runs = load_records(records_dir)
    if not runs:
        raise CurvesError(f"no MNIST record (mnist_<model>_latent<L>_seed<k>) in {records_dir}")
    figure, text = os.path.join(out_dir, "mnist_curves.png"), os.path.join(out_dir,
                                                                          "mnist_curves.md")
    draw(figure, runs)
    atomic_write.write_text(text, "# MNIST learning curves\n\nFigure: `mnist_curves.png`, drawn "
                            "by `python benchmarks/mnist_curves.py` from the saved records.\n\n"
                            + table(runs))
    return [figure, text]
