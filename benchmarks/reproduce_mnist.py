"""The paper's Tables 2 and 3 (MNIST: latent classifier, K-means) in one command: train, tabulate,
draw.

    python benchmarks/reproduce_mnist.py      # the paper's budget, in ~/acai_runs/mnist
    python benchmarks/reproduce_mnist.py --out_dir=out/mnist --train_kimg=256 --report_kimg=16 \
        --last_n=4 --n_init=100 --results_dir=results

Every (model, latent, seed) trains in this process, one after another, into
OUT/runs/<model>/latent<L>/seed<k> (OUT: --out_dir, by default ~/acai_runs/mnist, or
$ACAI_RUNS_DIR/mnist, outside any checkout; see benchmarks/long_runs.py) on mnist32 (real MNIST,
prepared by `make data` into the tfds folder: $ACAI_TFDS_DIR, else ~/tensorflow_datasets) with the
config of flags/runs/mnist32_<model>_latent<L>.flags (acai_tf.reproduction.paper_runs: depth 16, a
4x4 latent of L = 2 or 16 channels, i.e. 32 or 256 dims); --train_kimg, --report_kimg, --depth and
--latent override it. Each report logs the in-training classifier's test accuracy
(eval/latent_accuracy). Rerunning the command resumes unfinished runs and skips finished ones (and
their evaluations); progress lines say how far it is and estimate the time left. The loop is shared
with reproduce_lines.py (acai_tf.reproduction.run_loop, acai_tf.cli.reproduce).

The final checkpoint of every run is evaluated (acai_tf.evaluation.checkpoint_eval, parts
classifier and clustering): the linear probe on the first --max_train_examples train latents,
and K-means with --n_init restarts (the paper: 1000, about 1.2 s each on 60,000 256-d latents
on 2 cores; the count used is in the table); another --n_init or --max_train_examples
evaluates the final checkpoints again. Written to --results_dir (default OUT):
mnist_tables.md (the budget, seeds and machine, then Table 2: the in-training classifier by the
paper's protocol, the median of the last --last_n training-time evaluations, and at the
evaluated checkpoint, and the linear probe, with what fit it; Table 3: K-means accuracy; rows
per latent dim, columns the models in the paper's order, mean ± std over seeds),
mnist_table.csv, mnist_figure.png (per model and latent size, interpolations between the same
test digits) and mnist_reproduction.json; OUT is also an HParams experiment (`tensorboard
--logdir OUT`). Bad input: one line `error: ...`, exit status 1, before any training.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Sequence

# Run as a script, only benchmarks/ is on sys.path; the flag definitions live at the root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
from absl import app
from absl import flags

from acai_tf.outputs import images
from acai_tf.reproduction import paper_tables, run_records
from acai_tf.config import ConfigError
from acai_tf.evaluation import checkpoint_eval, results as results_lib
from acai_tf.evaluation.training_eval import EvalSettings
from acai_tf.cli import runner

from acai_tf.cli import reproduce as reproduce_cli
from acai_tf.reproduction import run_loop, table_outputs
from acai_tf.reproduction.run_loop import MODELS

LATENTS = (2, 16)  # channels of the paper's 4x4 MNIST latents: 32 and 256 dims
# The tables in the order they are written; the first two are the paper's Table 2.
TABLES = ("table2_classifier_training", "table2_classifier", "table2_probe",
          "table3_clustering")
# Interpolation pairs of the figure: A = test digit i, B = test digit FIGURE_ROWS + i, the same
# for every model; fewer rows than checkpoint_eval's default keep fourteen blocks readable.
FIGURE_ROWS = 4


def reproduce(out_dir: str, *, models: Sequence[str] = MODELS, latents: Sequence[int] = LATENTS,
              seeds: Sequence[int] = (0,), last_n: int = 20, n_init: int = 1000,
              max_train_examples: int = 60_000, overrides: dict[str, Any] | None = None,
              results_dir: str | None = None, eval_settings: EvalSettings = EvalSettings(),
              command: str = "", log: Callable[[str], None] = print) -> dict[str, str]:
    """Trains (or resumes) every run, evaluates it, then writes the tables and the figure.

    Args:
        out_dir: holds runs/<model>/latent<L>/seed<k>.
        models, latents, seeds: the runs; models in the paper's order whatever the order given,
            latents among LATENTS (the paper's channel counts).
        last_n: training-time evaluations whose median stands for a run (the paper: 20).
        n_init: K-means restarts (the paper: 1000).
        max_train_examples: train latents for the probe and K-means (the paper: all 60,000).
        overrides: flag values over the paper's: train_kimg, report_kimg, depth, latent
            (which changes the channels of the runs of every latent size).
        results_dir: the folder of the outputs (mnist_tables.md, mnist_table.csv,
            mnist_figure.png, mnist_reproduction.json); None is out_dir.
        eval_settings: how large the training reports' evaluations are (the paper's defaults).
        command: recorded in the outputs; log: receives the progress lines.

    Returns:
        The paths written, by kind: markdown, csv, figure, json.

    Raises:
        UserError (one line); a bad request fails before any training.
    """
    run_loop.check_request(models, seeds, last_n)
    unknown = sorted(set(latents) - set(LATENTS))
    if not latents or unknown:
        raise ConfigError(f"--latents must be among {', '.join(map(str, LATENTS))}, got "
                          f"{', '.join(map(str, latents))}")
    if n_init < 1 or max_train_examples < 1:
        raise ConfigError("need --n_init >= 1 and --max_train_examples >= 1")
    models = run_loop.in_paper_order(models)
    latents, seeds = sorted(set(latents)), list(dict.fromkeys(seeds))
    runs = [(os.path.join(out_dir, "runs", model, f"latent{latent}", f"seed{seed}"),
             reproduce_cli.paper_config("mnist32", model, latent, seed, overrides or {}))
            for model in models for latent in latents for seed in seeds]
    options = checkpoint_eval.EvalOptions(parts=("classifier", "clustering"), n_init=n_init,
                                          max_train_examples=max_train_examples,
                                          figure_rows=FIGURE_ROWS)
    loaded, paths, wall_time = run_loop.reproduce_runs(
        out_dir, runs, prefix="mnist", last_n=last_n, results_dir=results_dir,
        eval_settings=eval_settings, eval_options=options, log=log)
    paths["markdown"] = os.path.join(os.path.dirname(paths["markdown"]), "mnist_tables.md")
    tables = [paper_tables.build_table(name, loaded) for name in TABLES]
    images.write_png(paths["figure"], table_outputs.stacked_figure(
        loaded, group=lambda run: (MODELS.index(run.key[1]), run.key[2]),
        label=lambda run: f"{paper_tables.display_name(run.key[1])}, latent {run.key[2]} "
                          f"(seed {run.config['train']['seed']})", per_row=len(latents)))
    header = table_outputs.header(
        "Tables 2 and 3 (MNIST: latent classifier, K-means clustering)",
        "a test accuracy of the in-training classifier", "flags/runs/mnist32_<model>_latent<L>"
        ".flags", loaded, runs[0][1], last_n, seeds, command, extra=[
            f"- Checkpoint evaluation: linear probe and K-means on the first "
            f"{max_train_examples} train latents (the paper: 60000), K-means with n_init = "
            f"{n_init} restarts (the paper: 1000)."])
    present = [table for table in tables if table is not None]
    paper_tables.write_text(paths["markdown"], "\n".join(
        [header, *map(paper_tables.to_markdown, present), CAPTION]))
    paper_tables.write_text(paths["csv"], table_outputs.csv_text([
        (table["name"], metric, model, latent, cells[model]) for table in present
        for _, latent, metric, cells in table["rows"] for model in table["columns"]
        if model in cells]))
    table_outputs.write_record(
        paths["json"], command=command, config=runs[0][1], last_n=last_n, seeds=seeds,
        wall_time_s=wall_time, n_init=n_init, max_train_examples=max_train_examples,
        runs=[table_outputs.run_entry(run, checkpoint_entry(run)) for run in loaded])
    return paths


def checkpoint_entry(run: run_records.Run) -> dict[str, Any]:
    """A run's checkpoint evaluation for the JSON record: its classifier and clustering results,
    the classifier's naming what fit the probe (also for results older than that record)."""
    entry = {part: (run.results or {}).get(part) for part in ("classifier", "clustering")}
    implementation = results_lib.probe_implementation(run.results or {})
    if implementation is not None:
        entry["classifier"] = {**entry["classifier"],
                               results_lib.PROBE_IMPLEMENTATION_KEY: implementation}
    return entry


CAPTION = (f"Figure (mnist_figure.png): per model (rows) and latent size (columns), "
           f"{FIGURE_ROWS} rows of [test digit A | decoded interpolation, endpoints included | "
           f"test digit B] from its final checkpoint, between test digits i and "
           f"{FIGURE_ROWS} + i (the same pairs for every model).\n")


def main(argv: list[str]) -> None:
    fv = flags.FLAGS
    with runner.one_line_errors():
        latents = reproduce_cli.integers("latents", fv.latents)
    reproduce_cli.main(argv, reproduce, latents=latents, n_init=fv.n_init,
                      max_train_examples=fv.max_train_examples)


if __name__ == "__main__":
    reproduce_cli.define_flags(seeds=["0"], runs_name="mnist")
    flags.DEFINE_list("latents", [str(latent) for latent in LATENTS],
                      "Latent channels of the runs (the paper's 4x4 maps: 2 or 16).")
    flags.DEFINE_integer("n_init", 1000, "K-means restarts (the paper: 1000).")
    flags.DEFINE_integer("max_train_examples", 60_000, "Train latents for the linear probe and "
                         "K-means (the paper: all 60,000).")
    app.run(main, flags_parser=runner.parse_or_exit)
