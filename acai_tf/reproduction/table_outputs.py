"""The parts of the paper-table commands' outputs that Table 1 and Tables 2-3 share: the tables'
header (the budget next to the paper's, seeds, networks, hardware, command), the CSV in long
format, the JSON record and the figure of stacked interpolation blocks (see run_loop).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from acai_tf.outputs import images, strict_json, text_tables
from acai_tf.reproduction import paper_tables, run_records
from acai_tf.training import machine
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.config import ExperimentConfig
from acai_tf.evaluation import results as results_lib


def reports_per_run(config: ExperimentConfig) -> int:
    """Training-time evaluations of a run of `config` (the last report may be a short one)."""
    return -(-config.train.total_steps // config.train.steps_per_report)


def header(title: str, evaluation: str, flagfiles: str, runs: Sequence[run_records.Run],
           config: ExperimentConfig, last_n: int, seeds: Sequence[int], command: str,
           extra: Sequence[str] = ()) -> str:
    """The tables' header: the budget next to the paper's, seeds, networks, hardware, command.

    Args:
        title: the Markdown title; evaluation: what a training report evaluates ("a lines
            evaluation"); flagfiles: the paper runs' flagfiles ("flags/runs/...");
        config: one run's config (the budget is the same for all);
        extra: more bullet lines, after the networks'.
    """
    train, reports = config.train, reports_per_run(config)
    networks: dict[str, list[str]] = {}
    for run in runs:
        model = run.config["model"]
        key = (f"depth {model['depth']}, latent {model['latent']}×{model['latent_width']}×"
               f"{model['latent_width']} = {run.key[2]}")
        names = networks.setdefault(key, [])
        display = paper_tables.display_name(run.key[1])
        names += [display] if display not in names else []
    lines = [
        f"# {title}, reproduced", "",
        f"- Budget: train_kimg = {train.train_kimg:g} per run (the paper: 16384); {evaluation} "
        f"every report_kimg = {train.report_kimg:g} (the paper: 64), {reports} per "
        f"run; per run, the median of the last last_n = {last_n} evaluations (the paper: 20); "
        f"batch {train.batch}.",
        f"- Seeds: {', '.join(map(str, seeds))}; mean ± std over seeds (np.std, ddof 0).",
        f"- Networks ({flagfiles}): " + "; ".join(
            f"{key}: {', '.join(names)}" for key, names in networks.items()) + ".",
        f"- Precision: {precisions(runs)}.",
        *extra,
        f"- Hardware: {machine.one_line(machine.describe())}.",
        "- Trained by commit(s): " + (", ".join(training_commits(runs)) or "unknown") + ".",
    ]
    if last_n > reports:
        lines.append(f"- Each run has only {reports} evaluations: its median is over all of them.")
    if command:
        lines.append(f"- Command: `{command}`")
    return "\n".join(lines) + "\n"


def precisions(runs: Sequence[run_records.Run]) -> str:
    """Which precision trained the runs (`run_records.precision_history`): that one when they
    all share it, else each run's, e.g. "ACAI seed 0: float32; ACAI seed 1: mixed_bfloat16"."""
    histories = [run_records.precision_history(run.config["train"],
                                               workdir_lib.load_run_records(run.workdir))
                 for run in runs]
    if len(set(histories)) == 1:
        return histories[0]
    return "; ".join(f"{paper_tables.display_name(run.key[1])} seed {run.config['train']['seed']}"
                     f": {history}" for run, history in zip(runs, histories))


def training_stages(workdir: str) -> list[dict[str, Any]]:
    """[{"commit", "started", "from_step"}] of each start (or resumption) of the run's
    training ("from_step" is None in records older than the field)."""
    return [{key: record.get(key) for key in ("commit", "started", "from_step")}
            for record in workdir_lib.load_run_records(workdir)]


def training_commits(runs: Sequence[run_records.Run]) -> list[str]:
    """The distinct commits that trained any stage of `runs`, in order of first use."""
    commits = [stage["commit"] for run in runs for stage in training_stages(run.workdir)]
    return list(dict.fromkeys(commit for commit in commits if commit))


def csv_text(rows: Sequence[tuple[str, str, str, Any, tuple[float, float, int]]]) -> str:
    """Long format from (protocol, metric, model, latent dim, (mean, std, runs)) rows."""
    return text_tables.csv_text(
        ["protocol", "metric", "model", "latent_dim", "mean", "std", "runs"],
        [[protocol, metric, model, latent, repr(cell[0]), repr(cell[1]), cell[2]]
         for protocol, metric, model, latent, cell in rows])


def write_record(path: str, *, command: str, config: ExperimentConfig, last_n: int,
                 seeds: Sequence[int], wall_time_s: float, runs: list[dict[str, Any]],
                 **extra: Any) -> None:
    """The JSON record: command, machine, budget, seeds, wall time, runs (and `extra`); an
    undefined metric (NaN) is written as null, which strict readers accept."""
    budget = {key: value for key, value in config.train.to_dict().items() if key != "seed"}
    record = {"command": command, "machine": machine.describe(), "train": budget,
              "reports_per_run": reports_per_run(config), "last_n": last_n,
              "seeds": list(seeds), **extra, "wall_time_s": wall_time_s, "runs": runs}
    paper_tables.write_text(path, strict_json.dumps(record, indent=2) + "\n")


def run_entry(run: run_records.Run, checkpoint: dict[str, Any]) -> dict[str, Any]:
    """A run of the JSON record: where, what, which commits trained it when, its
    training-time medians and `checkpoint`."""
    return {"workdir": run.workdir, "model": run.key[1], "latent_dim": run.key[2],
            "seed": run.config["train"]["seed"], "training_stages": training_stages(run.workdir),
            "training_medians": run.training, "checkpoint": checkpoint}


def stacked_figure(runs: Sequence[run_records.Run], group: Callable[[run_records.Run], tuple],
                   label: Callable[[run_records.Run], str], per_row: int = 1) -> Any:
    """Each group's eval/interpolation.png (of its lowest seed), labelled, in `group` order."""
    chosen: dict[tuple, run_records.Run] = {}
    for run in sorted(runs, key=lambda run: run.config["train"]["seed"]):
        chosen.setdefault(group(run), run)
    return images.side_by_side([
        (label(run), images.read_png(results_lib.figure_path(run.workdir)))
        for _, run in sorted(chosen.items())], per_row=per_row)
