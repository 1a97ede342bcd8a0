"""The paper's Table 1 (lines32 interpolation) and Figure 3 in one command: train, tabulate, draw.

    python benchmarks/reproduce_lines.py --out_dir=out/lines             # the paper's budget
    python benchmarks/reproduce_lines.py --out_dir=out/lines --models=baseline,acai --seeds=0,1 \
        --train_kimg=32 --report_kimg=4 --last_n=4 --results_dir=results

Every (model, seed) trains in this process, one after another, into OUT/runs/<model>/seed<k>
with the config of flags/runs/lines32_<model>.flags (the paper's networks; VQ-VAE has a 4x4
latent); --train_kimg, --report_kimg, --depth and --latent override the flagfile. Each report
logs the lines benchmark (eval/mean_distance, eval/mean_smoothness). Rerunning the command
resumes unfinished runs (a larger --train_kimg continues finished ones) and skips finished ones.

The table follows the paper's protocol (acai_tf.paper_tables, table1_lines_training): per run the
median of the last --last_n training-time evaluations, then mean ± std over the seeds (np.std,
ddof 0), distance x10^3, columns in the paper's order; the final checkpoints, evaluated on the
same test pairs (acai_tf.evaluation.checkpoint_eval), give a second table and the figure. Written to
--results_dir (default OUT): lines_table.md (with the budget, seeds and machine in its header),
lines_table.csv, lines_figure.png and lines_reproduction.json. Bad input: one line
`error: ...`, exit status 1, before any training.
"""

from __future__ import annotations

import gc
import os
import shlex
import sys
import time
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
from absl import flags
from absl import logging

from acai_tf import images, machine, paper_tables, run_records, strict_json, text_tables
from acai_tf import train_lib
from acai_tf import workdir as workdir_lib
from acai_tf.config import ConfigError, ExperimentConfig
from acai_tf.errors import UserError
from acai_tf.evaluation import checkpoint_eval, results as results_lib
from acai_tf.evaluation.training_eval import EvalSettings
from acai_tf.cli import flag_defs, runner

MODELS = ("baseline", "dropout", "denoising", "vae", "aae", "vqvae", "acai")  # paper order
FLAGFILE = os.path.join(_ROOT, "flags", "runs", "lines32_{}.flags")
TABLES = {"training": "table1_lines_training", "checkpoint": "table1_lines"}
# The figure's pairs: fewer rows than checkpoint_eval's default keep seven stacked blocks readable.
EVAL_OPTIONS = checkpoint_eval.EvalOptions(parts=("lines",), figure_rows=4)


def run_config(model: str, seed: int, overrides: dict[str, Any]) -> ExperimentConfig:
    """The config of flags/runs/lines32_<model>.flags with --seed and `overrides` applied."""
    path = FLAGFILE.format(model)
    if model not in MODELS or not os.path.isfile(path):
        raise ConfigError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    flag_values = flags.FlagValues()
    flag_defs.define_flags(flag_values)
    extra = [f"--{name}={value}" for name, value in overrides.items() if value is not None]
    try:
        flag_values(["reproduce_lines", f"--flagfile={path}", f"--seed={seed}", *extra])
    except flags.Error as error:
        raise ConfigError(str(error)) from None
    return flag_defs.config_from_flags(flag_values)


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
        results_dir: where the outputs go; None is out_dir.
        eval_settings: sizes of the report evaluations (the defaults are the paper's).
        eval_options: the evaluation of the final checkpoints (the lines part and the figure).
        command: the command line, recorded in the outputs.
        log: receives progress lines.

    Returns:
        {"markdown", "csv", "figure", "json"}: the paths written.

    Raises:
        A UserError with a one-line message; the requests are all checked first.
    """
    if last_n < 1 or not seeds or min(seeds) < 0 or not models:
        raise ConfigError("need --last_n >= 1, at least one model and non-negative seeds")
    models = sorted(set(models), key=lambda name: MODELS.index(name) if name in MODELS else -1)
    seeds = list(dict.fromkeys(seeds))
    runs = [(os.path.join(out_dir, "runs", model, f"seed{seed}"),
             run_config(model, seed, overrides or {})) for model in models for seed in seeds]
    for workdir, config in runs:
        train_lib.validate(config, workdir)  # a mismatching workdir fails before any training
    start = time.monotonic()
    for workdir, config in runs:
        prefix = f"[{config.model.name} seed {config.train.seed}]"
        log(f"{prefix} {workdir}")
        prefixed = lambda line, prefix=prefix: log(f"{prefix} {line}")  # noqa: E731
        train_lib.train(config, workdir, eval_settings=eval_settings, log=prefixed)
        _release_memory()
        if _needs_evaluation(workdir):
            checkpoint_eval.evaluate(workdir, options=eval_options, log=prefixed)
            _release_memory()
    loaded = run_records.collect_runs([workdir for workdir, _ in runs], last_n=last_n)
    for warning in run_records.group_warnings(loaded):
        log(f"warning: {warning}")
    tables = {protocol: paper_tables.build_table(name, loaded) for protocol, name in TABLES.items()}
    if None in tables.values():
        raise run_records.ReportError("the runs hold no lines evaluations to tabulate")
    tables = {protocol: paper_layout(table) for protocol, table in tables.items()}
    train = runs[0][1].train
    reports = -(-train.total_steps // train.steps_per_report)  # evaluations per run
    results_dir = results_dir or out_dir
    os.makedirs(results_dir, exist_ok=True)
    paths = {key: os.path.join(results_dir, f"lines_{name}") for key, name in (
        ("markdown", "table.md"), ("csv", "table.csv"), ("figure", "figure.png"),
        ("json", "reproduction.json"))}
    figure, caption = _figure(loaded)
    images.write_png(paths["figure"], figure)
    sections = [paper_tables.to_markdown(table) for table in tables.values()]
    paper_tables.write_text(paths["markdown"], "\n".join(
        [_header(loaded, train, reports, last_n, seeds, command), *sections, caption]))
    paper_tables.write_text(paths["csv"], to_csv(tables))
    budget = {key: value for key, value in train.to_dict().items() if key != "seed"}
    record = {
        "command": command, "machine": machine.describe(), "train": budget,
        "reports_per_run": reports, "last_n": last_n, "seeds": list(seeds),
        "wall_time_s": time.monotonic() - start,
        "runs": [{"workdir": run.workdir, "model": run.key[1], "latent_dim": run.key[2],
                  "seed": run.config["train"]["seed"], "training_medians": run.training,
                  "checkpoint": (run.results or {}).get("lines")} for run in loaded]}
    # NaN (an undefined smoothness) as null, which strict readers accept.
    paper_tables.write_text(paths["json"], strict_json.dumps(record, indent=2) + "\n")
    return paths


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
    return text_tables.csv_text(
        ["protocol", "metric", "model", "latent_dim", "mean", "std", "runs"],
        [[protocol, metric, model, table["latents"][model],
          *(repr(value) for value in cells[model][:2]), cells[model][2]]
         for protocol, table in tables.items() for _, _, metric, cells in table["rows"]
         for model in table["columns"] if model in cells])


def _header(runs: Sequence[run_records.Run], train: Any, reports: int, last_n: int,
            seeds: Sequence[int], command: str) -> str:
    networks: dict[str, list[str]] = {}
    for run in runs:
        model = run.config["model"]
        key = (f"depth {model['depth']}, latent {model['latent']}×{model['latent_width']}×"
               f"{model['latent_width']} = {run.key[2]}")
        names = networks.setdefault(key, [])
        display = paper_tables.display_name(run.key[1])
        names += [display] if display not in names else []
    lines = [
        "# Table 1 (lines32 interpolation), reproduced", "",
        f"- Budget: train_kimg = {train.train_kimg:g} per run (the paper: 16384); a lines "
        f"evaluation every report_kimg = {train.report_kimg:g} (the paper: 64), {reports} per "
        f"run; per run, the median of the last last_n = {last_n} evaluations (the paper: 20); "
        f"batch {train.batch}.",
        f"- Seeds: {', '.join(map(str, seeds))}; mean ± std over seeds (np.std, ddof 0).",
        "- Networks (flags/runs/lines32_<model>.flags): " + "; ".join(
            f"{key}: {', '.join(names)}" for key, names in networks.items()) + ".",
        f"- Hardware: {machine.one_line(machine.describe())}.",
    ]
    if last_n > reports:
        lines.append(f"- Each run has only {reports} evaluations: its median is over all of them.")
    if command:
        lines.append(f"- Command: `{command}`")
    return "\n".join(lines) + "\n"


def _figure(runs: Sequence[run_records.Run]) -> tuple[Any, str]:
    """Figure 3: each model's final-checkpoint interpolations (its lowest seed), stacked."""
    blocks = []
    for run in sorted(runs, key=lambda run: (MODELS.index(run.key[1]),
                                             run.config["train"]["seed"])):
        if blocks and blocks[-1][0] == run.key[1]:
            continue
        label = f"{paper_tables.display_name(run.key[1])} (seed {run.config['train']['seed']})"
        blocks.append((run.key[1], label, images.read_png(results_lib.figure_path(run.workdir))))
    caption = ("Figure (lines_figure.png): per model, rows of [input A | decoded interpolation, "
               "endpoints included | input B] from its final checkpoint, on the first "
               "benchmark pairs.\n")
    return images.side_by_side([(label, image) for _, label, image in blocks], per_row=1), caption


def _needs_evaluation(workdir: str) -> bool:
    """True unless eval/results.json is of the latest checkpoint."""
    try:
        evaluated = (results_lib.read(workdir) or {}).get("checkpoint")
    except (OSError, ValueError):
        return True
    latest = workdir_lib.latest_checkpoint(workdir)
    return evaluated != os.path.relpath(latest, workdir)


def _release_memory() -> None:
    import keras  # pylint: disable=import-outside-toplevel

    keras.backend.clear_session()  # seven models x seeds in one process would pile up
    gc.collect()


def define_flags() -> None:
    flags.DEFINE_string("out_dir", None, "Holds runs/<model>/seed<k> (and the outputs).")
    flags.DEFINE_string("results_dir", None, "Where the tables and the figure go (default "
                        "--out_dir).")
    flags.DEFINE_list("models", list(MODELS), "Models, among the seven of the paper.")
    flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds of the runs of every model.")
    flags.DEFINE_integer("last_n", 20, "Evaluations whose median stands for a run (paper: 20).")
    flags.DEFINE_float("train_kimg", None, "Training length (default: the flagfiles', 16384).")
    flags.DEFINE_float("report_kimg", None, "Evaluation period (default: the flagfiles', 64).")
    flags.DEFINE_integer("depth", None, "Override the flagfiles' depth (smoke tests).")
    flags.DEFINE_integer("latent", None, "Override the flagfiles' latent channels (smoke tests).")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        print(f"error: unexpected arguments: {' '.join(argv[1:])}", file=sys.stderr)
        sys.exit(1)
    fv = flags.FLAGS
    logging.set_verbosity(logging.ERROR)  # tfds look-ups would surround a one-line error
    try:
        seeds = [int(seed) for seed in fv.seeds]
    except ValueError:
        print(f"error: --seeds must be integers, got {','.join(fv.seeds)}", file=sys.stderr)
        sys.exit(1)
    overrides = {name: fv[name].value for name in ("train_kimg", "report_kimg", "depth",
                                                   "latent")}
    try:
        paths = reproduce(fv.out_dir, models=fv.models, seeds=seeds, last_n=fv.last_n,
                          overrides=overrides, results_dir=fv.results_dir,
                          command=shlex.join(["python", *sys.argv]))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    print(f"wrote {', '.join(paths.values())}")


if __name__ == "__main__":
    define_flags()
    flags.mark_flag_as_required("out_dir")
    app.run(main, flags_parser=runner.parse_or_exit)
