"""Learning curves of the lines32 runs from their saved records, and the official code beside ours.

    python benchmarks/lines_curves.py                  # results/runs -> results/lines_curves.*
    python benchmarks/lines_curves.py --records_dir=results/runs --out_dir=results

Reads the records that benchmarks/long_runs.py saves (RECORDS/<name>/{config.json,
metrics.jsonl}): this project's runs `lines_<model>_seed<k>` and the official TF1 code's
`official_lines_<model>_seed<k>` (benchmarks/official_reference.py). Writes into --out_dir:

- lines_curves.png: reconstruction MSE (the training batches' `losses/reconstruction`, log
  scale, with the 0.07 plateau line), mean distance and mean smoothness of the lines benchmark
  (256 test pairs x 16 steps, every report; the smoothness axis is cut at 1.5) against kimg on a
  log axis, one colour per model in the paper's order (seed 0 solid, other seeds faint, lost
  runs dotted, then dash-dotted); pixel blending of the same pairs is the dashed grey line.
- lines_curves.md: one row per run: its kimg, reports and cadence, where it left the plateau
  (the first report with reconstruction MSE below 0.07, the mean image's 0.080 being the
  plateau), its last values and Table 1's value (median of the last 20 reports), its precision
  and commits.
  When a run was restarted after its workdir was lost, a second table puts the restart beside
  its lost runs at the kimg two of them reached (RESTART_BUDGETS and each run's last report),
  each with its value there, Table 1's median of its last 20 reports up to there and the CPU
  class it trained on.
- official_reference.png / .md, when official records exist: the same three panels with our
  runs solid and the official code's dashed, for the models both have, and the official seed-0
  run beside each of ours at the kimg both reached.

Nothing is extrapolated: a curve ends at its last report. A record folder marked `.lost-` holds
the reports of a run whose workdir was lost (long_runs.py); its run restarted from step 0 in the
record without the mark. Both are measurements, so both are drawn and listed, as two runs: the
lost one dotted (a second lost run of the same model and seed dash-dotted), never joined to its
restart.
"""

from __future__ import annotations

import collections
import json
import math
import os
import re
import sys
from typing import Any, Sequence

import numpy as np

# Run as a script, only benchmarks/ is on sys.path; the library lives at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
from absl import app, flags

from acai_tf import datasets
from acai_tf.outputs import atomic_write, text_tables
from acai_tf.reproduction import paper_tables
from acai_tf.training import metrics_log
from acai_tf.cli import runner
from acai_tf.errors import UserError
from acai_tf.evaluation import protocols
from acai_tf.lines import metric
from acai_tf.serving import pretrained

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


def _value(number: float | None, scale: float = 1.0, digits: int = 2) -> str:
    if number is None:
        return "-"
    return "undefined" if np.isnan(number) else f"{number * scale:.{digits}f}"


def last_and_table1(reports: Sequence[dict[str, float]]) -> list[str]:
    """Mean distance (x10^3) and smoothness of `reports`, each as its last value and Table 1's
    (the median of the last LAST_N), formatted: four cells, "-" where nothing was logged."""
    cells = []
    for key, scale in (("eval/mean_distance", 1e3), ("eval/mean_smoothness", 1.0)):
        _, values = series(reports, key)
        cells += [_value(values[-1] if values.size else None, scale),
                  _value(float(np.median(values[-LAST_N:])) if values.size else None, scale)]
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
    precision = run["config"].get("train", {}).get("precision", "float32")
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


def write(records_dir: str, out_dir: str) -> list[str]:
    """Writes lines_curves.{png,md} and, with official records, official_reference.{png,md}.

    Returns:
        The paths written.
    """
    runs = load_records(records_dir)
    ours = [run for run in runs if run["source"] == "ours"]
    if not ours:
        raise CurvesError(f"{records_dir} holds no lines_<model>_seed<k> records")
    blending = pixel_blending()
    paths = [os.path.join(out_dir, name) for name in ("lines_curves.png", "lines_curves.md")]
    draw(paths[0], ours, blending, "lines32: learning curves (this project's runs)")
    atomic_write.write_text(paths[1], "# lines32 learning curves\n\n" + HEADER.format(
        records=os.path.relpath(records_dir, out_dir)) + "\n" + table(ours, blending)
        + restart_markdown(ours))
    official = [run for run in runs if run["source"] == "official"]
    if official:
        models = {run["model"] for run in official}
        both = [run for run in runs if run["model"] in models]
        paths += [os.path.join(out_dir, name)
                  for name in ("official_reference.png", "official_reference.md")]
        draw(paths[2], both, blending, "lines32: the official TF1 code (dashed) beside ours "
             "(solid), same flags, batch and budget", dashed_source="official")
        atomic_write.write_text(paths[3], official_markdown(both, blending, records_dir,
                                                            out_dir))
    return paths


def machine_classes(run: dict[str, Any]) -> str:
    """The CPU classes a run trained on, from its start records: "AVX-512" (oneDNN's AVX-512
    kernels), "AVX2", or both in order of first use ("?" without CPU flags)."""
    classes = [("AVX-512" if "avx512f" in start["cpu_flags"] else "AVX2")
               if start.get("cpu_flags") else "?" for start in run["config"].get("runs") or []]
    return ", ".join(dict.fromkeys(classes)) or "?"


# The one logged value that depends on the machine's load, not on the computation.
TIMING_KEYS = ("monitors/images_per_second",)


def same_report(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two reports logged the same values, bit for bit (NaN equal to NaN), timing
    aside."""
    keys = (a.keys() | b.keys()) - set(TIMING_KEYS)
    return all(key in a and key in b and (a[key] == b[key] or (math.isnan(a[key])
                                                               and math.isnan(b[key])))
               for key in keys)


def agreement(a: dict[str, Any], b: dict[str, Any]) -> str:
    """How far two runs made identical reports, e.g. "identical in all 3 reports both made (to
    192 kimg)", "identical to 128 kimg, then different (from 192 kimg)" (naming a resume of
    either run in between), "different from their first report (64 kimg)"; "" when they share
    no report."""
    theirs = {report["step"]: report for report in b["reports"]}
    shared = [(report, theirs[report["step"]]) for report in a["reports"]
              if report["step"] in theirs]
    if not shared:
        return ""
    first_difference = next((i for i, (x, y) in enumerate(shared) if not same_report(x, y)), None)
    if first_difference is None:
        return (f"identical in all {len(shared)} reports both made (to "
                f"{shared[-1][0]['kimg']:g} kimg)")
    if first_difference == 0:
        return f"different from their first report ({shared[0][0]['kimg']:g} kimg)"
    same_to = shared[first_difference - 1][0]["kimg"]
    differ_from = shared[first_difference][0]["kimg"]
    said = f"identical to {same_to:g} kimg, then different (from {differ_from:g} kimg)"
    # A run resumed in between restarted its data stream from a seed of (seed, step).
    resumed = [f"{run_name(run)} resumed at {kimg:g} kimg" for run in (a, b)
               for kimg in resumes(run) if same_to <= kimg < differ_from]
    return said + (f"; {', '.join(resumed)}, which reseeds the data stream" if resumed else "")


def resumes(run: dict[str, Any]) -> list[float]:
    """The kimg at which a run was resumed (its starts after the first), from config.json."""
    batch = run.get("config", {}).get("train", {}).get("batch")
    starts = run.get("config", {}).get("runs") or []
    return [start["from_step"] * batch / 1024 for start in starts[1:]
            if batch and start.get("from_step")]


def run_name(run: dict[str, Any]) -> str:
    """"current" or "lost at N kimg": a run within its restart group."""
    return "current" if not run["lost"] else f"lost at {run['reports'][-1]['kimg']:g} kimg"


def restart_markdown(runs: Sequence[dict[str, Any]]) -> str:
    """A table of every run restarted from step 0 beside its lost runs ("" without any).

    A group is one model, seed and source: the current run (no `.lost-` mark) and the runs whose
    workdir was lost, oldest first. Shown: each kimg of RESTART_BUDGETS and each run's last kimg
    that at least two of the group reached, with every run's report there and Table 1's median
    of its own last LAST_N reports up to that kimg.
    """
    rows, pairs = [], []
    for current in (run for run in runs if not run["lost"] and run["reports"]):
        lost = sorted((run for run in runs if run["lost"] and run["model"] == current["model"]
                       and run["seed"] == current["seed"]
                       and run["source"] == current["source"]), key=lambda run: run["name"])
        group = [current, *lost]
        reached = [{report["kimg"] for report in run["reports"]} for run in group]
        ends = {run["reports"][-1]["kimg"] for run in group if run["reports"]}
        shown = sorted(kimg for kimg in set(RESTART_BUDGETS) | ends
                       if sum(kimg in kimgs for kimgs in reached) >= 2)
        for kimg in shown:
            for run, kimgs in zip(group, reached):
                if kimg not in kimgs:
                    continue
                upto = [report for report in run["reports"] if report["kimg"] <= kimg]
                cells = [_value(upto[-1].get("losses/reconstruction"), 1.0, 4),
                         *last_and_table1(upto)]
                rows.append([paper_tables.display_name(run["model"]), run["seed"], f"{kimg:g}",
                             run_name(run), machine_classes(run), *cells])
        name = paper_tables.display_name(current["model"]) + f" seed {current['seed']}"
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if said := agreement(a, b):
                    pairs.append(f"- {name}, {run_name(a)} and {run_name(b)}: {said}.")
    if not rows:
        return ""
    return "\n".join([
        "", "## Restarts beside their lost runs", "",
        "Runs of one model and seed restarted from step 0 (same flags and data stream) after a "
        "workdir was lost, at the kimg two of them reached: each run's report at that kimg, and "
        f"Table 1's value (the median of its last {LAST_N} reports up to that kimg). Runs are "
        "never spliced. `CPU`: the kernels each run trained with (oneDNN's AVX-512 kernels or "
        "the AVX2 ones, from its start records).",
        "",
        *text_tables.markdown(["model", "seed", "kimg", "run", "CPU", "reconstruction MSE",
                               "distance x10^3", "distance x10^3, Table 1", "smoothness",
                               "smoothness, Table 1"], rows), "",
        "Reports compared value by value (every logged loss, monitor and lines metric, "
        "images/s aside) at every step two runs both reported:", "", *pairs]) + "\n"


HEADER = ("Figure: `lines_curves.png`, drawn by `python benchmarks/lines_curves.py` from the "
          "records in `{records}/` (saved by `benchmarks/long_runs.py`; each record's "
          "config.json says its machine and the commits that trained it). Every curve ends at "
          "its run's last report; nothing is extrapolated.\n")


def official_markdown(runs: Sequence[dict[str, Any]], blending: dict[str, float],
                      records_dir: str, out_dir: str) -> str:
    """official_reference.md: both codes' rows, then their values at the kimg both reached."""
    lines = ["# The official TF1 code beside this project on lines32", "",
             HEADER.format(records=os.path.relpath(records_dir, out_dir)).replace(
                 "lines_curves.png", "official_reference.png"),
             "The official runs were trained by `benchmarks/official_reference.py` (the "
             "brain-research/acai code under `tf.compat.v1`, fed this project's lines32 stream, "
             "evaluated by this project's lines benchmark on the same pairs).", "",
             table(runs, blending), "", "## At equal budgets", "",
             "The reconstruction MSE of a report is the mean over the training batches since "
             "the previous report: where the two runs report at different intervals (`every`), "
             "it averages different spans; the lines metrics are of the model at that kimg."
             + (" `ours, lost at N kimg`: a run of ours whose workdir was lost at N kimg (its "
                "`.lost-` record); `ours` of the same model and seed is its restart from step 0."
                if any(run["lost"] for run in runs) else ""), ""]
    rows = []
    for model in MODELS:
        seed0 = [run for run in runs if run["model"] == model and run["seed"] == 0]
        official = next((run for run in seed0 if run["source"] == "official"), None)
        ours = [run for run in seed0 if run["source"] == "ours"]  # a restart before its lost run
        if official is None or not ours:
            continue
        # Each run's report index by kimg, built once: the rows look reports up by kimg.
        index_at = {run["name"]: {report["kimg"]: i for i, report in enumerate(run["reports"])}
                    for run in [*ours, official]}
        shown = set()
        for run in ours:
            common = sorted(index_at[official["name"]].keys() & index_at[run["name"]].keys())
            # The usual budgets, and the furthest kimg both reached (where they end matters most).
            shown.update(kimg for kimg in common if kimg in EQUAL_BUDGETS)
            shown.update(common[-1:])
        for kimg in sorted(shown):
            for run in [*ours, official]:
                index = index_at[run["name"]].get(kimg)
                if index is None:
                    continue
                reports = run["reports"]
                report = reports[index]
                every = kimg - reports[index - 1]["kimg"] if index else kimg
                source = run["source"] + (f", {run_name(run)}" if run["lost"] else "")
                rows.append([paper_tables.display_name(model), f"{kimg:g}", source,
                             f"{every:g}", _value(report.get("losses/reconstruction"), 1.0, 4),
                             _value(report.get("eval/mean_distance"), 1e3),
                             _value(report.get("eval/mean_smoothness"))])
    lines += text_tables.markdown(["model", "kimg", "source", "every (kimg)",
                                   "reconstruction MSE", "distance x10^3", "smoothness"], rows)
    return "\n".join(lines) + "\n"


def define_flags() -> None:
    flags.DEFINE_string("records_dir", os.path.join(_ROOT, "results", "runs"),
                        "The saved records (benchmarks/long_runs.py).")
    flags.DEFINE_string("out_dir", os.path.join(_ROOT, "results"), "Where the outputs go.")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    with runner.one_line_errors():
        paths = write(flags.FLAGS.records_dir, flags.FLAGS.out_dir)
    print(f"wrote {', '.join(paths)}")


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=runner.parse_or_exit)
