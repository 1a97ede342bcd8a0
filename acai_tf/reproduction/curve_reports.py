"""The lines32 curves' files (`write`): lines_curves.{png,md} with the restarts beside their lost
runs, and official_reference.{png,md} with the official code beside ours at the kimg both
reached. The command is benchmarks/lines_curves.py, whose docstring describes the outputs.
"""

from __future__ import annotations

import math
import os
from typing import Any, Sequence

from acai_tf.outputs import atomic_write, text_tables
from acai_tf.reproduction import paper_tables
from acai_tf.reproduction.curves import (CurvesError, EQUAL_BUDGETS, LAST_N, MODELS,
                                         RESTART_BUDGETS, draw, last_and_table1, load_records,
                                         pixel_blending, table, value_cell)


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
                cells = [value_cell(upto[-1].get("losses/reconstruction"), 1.0, 4),
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
             "The official runs were trained by `benchmarks/official/official_reference.py` (the "
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
                             f"{every:g}", value_cell(report.get("losses/reconstruction"), 1.0, 4),
                             value_cell(report.get("eval/mean_distance"), 1e3),
                             value_cell(report.get("eval/mean_smoothness"))])
    lines += text_tables.markdown(["model", "kimg", "source", "every (kimg)",
                                   "reconstruction MSE", "distance x10^3", "smoothness"], rows)
    return "\n".join(lines) + "\n"
