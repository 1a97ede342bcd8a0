"""The paper's Table 1 (lines32 interpolation) and Figure 3 in one command: train, tabulate, draw.

    python benchmarks/reproduce_lines.py      # the paper's budget, in ~/acai_runs/lines
    python benchmarks/reproduce_lines.py --out_dir=out/lines --models=baseline,acai --seeds=0,1 \
        --train_kimg=32 --report_kimg=4 --last_n=4 --results_dir=results

Every (model, seed) trains in this process, one after another, into OUT/runs/<model>/seed<k> (OUT:
--out_dir, by default ~/acai_runs/lines, or $ACAI_RUNS_DIR/lines: outside any checkout, so that a
fresh clone or `make clean` cannot lose a run that spans working periods; save its records into the
repository with benchmarks/long_runs.py) with the config of flags/runs/lines32_<model>.flags
(acai_tf.reproduction.paper_runs: the paper's networks; VQ-VAE has a 4x4 latent); --train_kimg,
--report_kimg, --depth and --latent override the flagfile. Each report logs the lines benchmark
(eval/mean_distance, eval/mean_smoothness). Rerunning the command resumes unfinished runs (a larger
--train_kimg continues finished ones) and skips finished ones; progress lines say how far it is and
estimate the time left. A final checkpoint is evaluated unless its eval/results.json holds every
lines metric (runs evaluated by older code lack the long-way fraction). The runs and the loop are
shared with reproduce_mnist.py (acai_tf.reproduction.run_loop, acai_tf.cli.reproduce).

The table follows the paper's protocol (acai_tf.reproduction.paper_tables, table1_lines_training):
per run the median of the last --last_n training-time evaluations, then mean ± std over the seeds
(np.std, ddof 0), distance x10^3, columns in the paper's order; the final checkpoints, evaluated on
the same test pairs (acai_tf.evaluation.checkpoint_eval), give a second table and the figure.
Written to --results_dir (default OUT): lines_table.md (with the budget, seeds and machine in its
header), lines_table.csv, lines_figure.png and lines_reproduction.json; OUT is also an HParams
experiment (`tensorboard --logdir OUT`: one row per run). Bad input: one line `error: ...`, exit
status 1, before any training.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Sequence

# Run as a script, only benchmarks/ is on sys.path; the flag definitions (flags/) and the
# flagfiles live at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
from absl import app

from acai_tf.outputs import images
from acai_tf.reproduction import paper_tables, run_records
from acai_tf.config import ExperimentConfig
from acai_tf.evaluation import checkpoint_eval
from acai_tf.evaluation.training_eval import EvalSettings
from acai_tf.cli import runner

from acai_tf.cli import reproduce as reproduce_cli
from acai_tf.reproduction import run_loop, table_outputs
from acai_tf.reproduction.run_loop import MODELS

TABLES = {"training": "table1_lines_training", "checkpoint": "table1_lines"}
# The figure's pairs: fewer rows than checkpoint_eval's default keep seven stacked blocks readable.
EVAL_OPTIONS = checkpoint_eval.EvalOptions(parts=("lines",), figure_rows=4)


def run_config(model: str, seed: int, overrides: dict[str, Any]) -> ExperimentConfig:
    """The config of flags/runs/lines32_<model>.flags with --seed and `overrides` applied."""
    return reproduce_cli.paper_config("lines32", model, 16, seed, overrides)


def reproduce(out_dir: str, *, models: Sequence[str] = MODELS, seeds: Sequence[int] = (0, 1, 2),
              last_n: int = 20, overrides: dict[str, Any] | None = None,
              results_dir: str | None = None, eval_settings: EvalSettings = EvalSettings(),
              eval_options: checkpoint_eval.EvalOptions = EVAL_OPTIONS, command: str = "",
              log: Callable[[str], None] = print) -> dict[str, str]:
    """Trains (or resumes) every run, then writes the tables and the figure.

    Args:
        out_dir: holds runs/<model>/seed<k>.
        models, seeds: the runs; models are drawn in the paper's order whatever the order given.
        last_n: training-time evaluations whose median stands for a run (the paper: 20).
        overrides: flag values over the flagfiles': train_kimg, report_kimg, depth, latent.
        results_dir: where lines_table.md, lines_table.csv, lines_figure.png and
            lines_reproduction.json go; None is out_dir.
        eval_settings: sizes of the report evaluations (the defaults are the paper's).
        eval_options: the evaluation of the final checkpoints (the lines part and the figure).
        command, log: the command line, recorded in the outputs; the progress lines' receiver.

    Returns:
        {"markdown", "csv", "figure", "json"}: the paths written.

    Raises:
        A UserError with a one-line message, before any training for a bad request.
    """
    run_loop.check_request(models, seeds, last_n)
    models = run_loop.in_paper_order(models)
    seeds = list(dict.fromkeys(seeds))
    runs = [(os.path.join(out_dir, "runs", model, f"seed{seed}"),
             run_config(model, seed, overrides or {})) for model in models for seed in seeds]
    loaded, paths, wall_time = run_loop.reproduce_runs(
        out_dir, runs, prefix="lines", last_n=last_n, results_dir=results_dir,
        eval_settings=eval_settings, eval_options=eval_options, log=log)
    tables = {protocol: paper_tables.build_table(name, loaded) for protocol, name in TABLES.items()}
    if None in tables.values():
        raise run_records.ReportError("the runs hold no lines evaluations to tabulate")
    tables = {protocol: paper_layout(table) for protocol, table in tables.items()}
    images.write_png(paths["figure"], table_outputs.stacked_figure(
        loaded, group=lambda run: (MODELS.index(run.key[1]),),
        label=lambda run: f"{paper_tables.display_name(run.key[1])} "
                          f"(seed {run.config['train']['seed']})"))
    sections = [paper_tables.to_markdown(table) for table in tables.values()]
    header = table_outputs.header("Table 1 (lines32 interpolation)", "a lines evaluation",
                                 "flags/runs/lines32_<model>.flags", loaded, runs[0][1], last_n,
                                 seeds, command)
    paper_tables.write_text(paths["markdown"], "\n".join([header, *sections, CAPTION]))
    paper_tables.write_text(paths["csv"], to_csv(tables))
    table_outputs.write_record(
        paths["json"], command=command, config=runs[0][1], last_n=last_n, seeds=seeds,
        wall_time_s=wall_time, runs=[table_outputs.run_entry(
            run, (run.results or {}).get("lines")) for run in loaded])
    return paths


CAPTION = ("Figure (lines_figure.png): per model, rows of [input A | decoded interpolation, "
           "endpoints included | input B] from its final checkpoint, on the first "
           "benchmark pairs.\n")


def paper_layout(table: dict[str, Any]) -> dict[str, Any]:
    """One row per metric, all models side by side (VQ-VAE's 256-d latent joins the 64-d row).

    paper_tables.build_table keys rows by latent dim too; the paper's Table 1 has one row per
    metric.
    """
    latents: dict[str, int] = {}
    merged: dict[tuple[str, str], dict] = {}
    for dataset, latent, label, cells in table["rows"]:
        merged.setdefault((dataset, label), {}).update(cells)
        latents.update({model: latent for model in cells})
    common = max(set(latents.values()), key=list(latents.values()).count)
    others = ", ".join(f"{paper_tables.display_name(m)} {d}" for m, d in latents.items()
                       if d != common)
    label = f"{common} ({others})" if others else str(common)
    rows = [(dataset, label, metric, cells) for (dataset, metric), cells in merged.items()]
    return {**table, "latents": latents, "rows": rows}


def to_csv(tables: dict[str, dict[str, Any]]) -> str:
    """Long format, models in the paper's order: protocol, metric, model, latent_dim, mean, std,
    runs (distance x10^3 as in the table)."""
    return table_outputs.csv_text([
        (protocol, metric, model, table["latents"][model], cells[model])
        for protocol, table in tables.items() for _, _, metric, cells in table["rows"]
        for model in table["columns"] if model in cells])


def main(argv: list[str]) -> None:
    reproduce_cli.main(argv, reproduce)


if __name__ == "__main__":
    reproduce_cli.define_flags(seeds=["0", "1", "2"], runs_name="lines")
    app.run(main, flags_parser=runner.parse_or_exit)
