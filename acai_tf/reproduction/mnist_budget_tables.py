"""Tables 2 and 3 on MNIST at the paper's budget, built from the long runs' saved records.

    runs = mnist_budget_tables.load("results/runs")
    paths = mnist_budget_tables.write("results/runs", "results/paper_budget")

The MNIST runs toward the paper's 16,384 kimg train across working periods, outside the
checkout; `benchmarks/long_runs.py` saves the small records of each into
`mnist_<model>_latent<L>_seed<k>/` (read by `mnist_curves.load_records`: config.json,
metrics.jsonl, the evaluations of the checkpoints kept at 1,024 and 4,096 kimg in milestones/,
and, once the run has finished, its final evaluation in eval/results.json). From them:

- Table 2 by the paper's protocol: per run, the median of the last 20 training-time test
  accuracies (%) of the in-training single-layer classifier (`eval/latent_accuracy`), and the
  linear probe of the newest evaluated checkpoint (beyond the paper);
- Table 3: K-means clustering accuracy (%) at every evaluated checkpoint, a curve over kimg.

Rows are latent sizes (32 or 256 dims; a seed other than 0 has rows of its own, since runs that
stand at different kimg are never averaged), columns the models in the paper's order. Every
cell names the kimg its value was measured at, and a K-means cell its restarts (n_init): the
runs stop and resume at different points of their budgets. The header gives the budgets, the
runs still training, each run's precision and CPU as its config.json recorded them, and the
records' folder. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Sequence

from acai_tf.errors import UserError
from acai_tf.evaluation import results as results_lib
from acai_tf.outputs import atomic_write, text_tables
from acai_tf.reproduction import mnist_curves, paper_tables, run_records, table_outputs

PAPER_KIMG = 16384  # the paper's budget per run
LAST_N = mnist_curves.LAST_N  # Table 2's protocol: the median of the last 20 reports
MARKDOWN, CSV = "mnist_tables.md", "mnist_table.csv"  # the outputs, in the out folder
# The tables' names, as paper_tables.TABLES names them: the `table` column of the CSV.
TRAINING, PROBE, KMEANS = "table2_classifier_training", "table2_probe", "table3_clustering"
CSV_HEADER = ("table", "model", "latent_dim", "seed", "value", "kimg", "n_init", "reports",
              "run_kimg", "train_kimg")
NONE = "–"  # an empty cell, as in paper_tables' grids


class TablesError(UserError, RuntimeError):
    """The tables cannot be built; the message is one line."""


@dataclasses.dataclass(frozen=True)
class Cell:
    """One value of a table and where in its run's training it was measured.

    Attributes:
        value: a test accuracy, % in [0, 100].
        kimg: thousands of training images the run had seen when it was measured.
        n_init: the K-means restarts (Table 3), else None.
        reports: the training-time evaluations its median is over (Table 2), else None.
    """

    value: float
    kimg: float
    n_init: int | None = None
    reports: int | None = None

    def text(self) -> str:
        """E.g. "94.83 (2,432 kimg)", "83.05 (1,024 kimg, 20 restarts)", or "95.77 (768 kimg,
        median of 12)" for a run with fewer than LAST_N reports."""
        notes = [f"{self.kimg:,g} kimg"]
        if self.n_init is not None:
            notes.append(f"{self.n_init:,} restart{'s' if self.n_init != 1 else ''}")
        if self.reports is not None and self.reports < LAST_N:
            notes.append(f"median of {self.reports}")
        return f"{self.value:.2f} ({', '.join(notes)})"


def load(records_dir: str) -> list[dict[str, Any]]:
    """Every MNIST record of records_dir (`mnist_curves.load_records`: `.lost-*` folders, the
    records of abandoned runs, are left out), in the paper's model order.

    Raises:
        UserError: records_dir is missing or holds no MNIST record.
    """
    runs = mnist_curves.load_records(records_dir)
    if not runs:
        raise TablesError(f"no MNIST record (mnist_<model>_latent<L>_seed<k>) in {records_dir}: "
                          "save the runs' records with python benchmarks/long_runs.py")
    return runs


def kimg_reached(run: dict[str, Any]) -> float:
    """The kimg of the run's last report (0 without one)."""
    return float(run["reports"][-1]["kimg"]) if run["reports"] else 0.0


def train_kimg(run: dict[str, Any]) -> float:
    """The run's budget, its config's train_kimg."""
    return float(run["config"]["train"]["train_kimg"])


def still_training(run: dict[str, Any]) -> bool:
    return kimg_reached(run) < train_kimg(run)


def training_cell(run: dict[str, Any]) -> Cell | None:
    """Table 2 by the paper's protocol: the median of the last LAST_N `eval/latent_accuracy`
    reports, at the kimg of the last; None before the first report."""
    kimg, accuracy = mnist_curves.accuracy_series(run["reports"])
    if not accuracy.size:
        return None
    median = run_records.training_medians(run["folder"], LAST_N)[mnist_curves.ACCURACY]
    return Cell(median, float(kimg[-1]), reports=int(min(LAST_N, accuracy.size)))


def probe_cell(run: dict[str, Any]) -> Cell | None:
    """The linear probe's accuracy at the newest evaluated checkpoint; None without one."""
    probed = [results for results in run["evaluations"]
              if (results.get("classifier") or {}).get("probe_accuracy") is not None]
    if not probed:
        return None
    return Cell(float(probed[-1]["classifier"]["probe_accuracy"]), float(probed[-1]["kimg"]))


def kmeans_cells(run: dict[str, Any]) -> list[Cell]:
    """Table 3: the K-means accuracy of every evaluated checkpoint, in kimg order."""
    return [Cell(float(results["clustering"]["accuracy"]), float(results["kimg"]),
                 n_init=mnist_curves.restarts(results))
            for results in run["evaluations"]
            if (results.get("clustering") or {}).get("accuracy") is not None]


def _rows(runs: Sequence[dict[str, Any]]) -> dict[tuple[int, int], dict[str, dict[str, Any]]]:
    """{(latent dim, seed): {model: run}}, by latent dim then seed."""
    rows: dict[tuple[int, int], dict[str, dict[str, Any]]] = {}
    for run in sorted(runs, key=lambda run: (run["latent_dim"], run["seed"])):
        rows.setdefault((run["latent_dim"], run["seed"]), {})[run["model"]] = run
    return rows


def _columns(runs: Sequence[dict[str, Any]]) -> list[str]:
    return [model for model in mnist_curves.MODELS if any(run["model"] == model for run in runs)]


def _row_label(latent: int, seed: int) -> str:
    return f"{latent}" + (f", seed {seed}" if seed else "")


def _header_cells(first: Sequence[str], runs: Sequence[dict[str, Any]]) -> list[str]:
    return [*first, *(paper_tables.display_name(model) for model in _columns(runs))]


def table2(runs: Sequence[dict[str, Any]]) -> list[str]:
    """Table 2's lines: per row the classifier by the paper's protocol, then the probe."""
    metrics = ((f"Single-layer classifier, median of the last {LAST_N} reports", training_cell),
               ("Linear probe, newest evaluated checkpoint", probe_cell))
    grid = []
    for (latent, seed), by_model in _rows(runs).items():
        for label, cell_of in metrics:
            cells = [cell_of(by_model[model]) if model in by_model else None
                     for model in _columns(runs)]
            grid.append([_row_label(latent, seed), label,
                         *(cell.text() if cell else NONE for cell in cells)])
    return text_tables.markdown(_header_cells(["Latent dim", "Metric"], runs), grid)


def table3(runs: Sequence[dict[str, Any]]) -> list[str]:
    """Table 3's lines: a row per latent size and evaluated checkpoint kimg; [] when no
    checkpoint has a K-means result yet."""
    grid = []
    for (latent, seed), by_model in _rows(runs).items():
        cells = {model: {cell.kimg: cell for cell in kmeans_cells(run)}
                 for model, run in by_model.items()}
        for kimg in sorted({kimg for by_kimg in cells.values() for kimg in by_kimg}):
            grid.append([_row_label(latent, seed), f"{kimg:,g} kimg", *(
                cells[model][kimg].text() if kimg in cells.get(model, {}) else NONE
                for model in _columns(runs))])
    return text_tables.markdown(_header_cells(["Latent dim", "Checkpoint"], runs),
                                grid) if grid else []


def _start(start: dict[str, Any], precision: str) -> str:
    """A start record of config.json as "float32 on AMD EPYC (avx2), oneDNN on"."""
    flags = " ".join(start.get("cpu_flags") or ()) or "no AVX flags listed"
    onednn = {True: "on", False: "off"}.get(start.get("onednn"), "unknown")
    return (f"{start.get('precision', precision)} on {start.get('cpu', 'an unrecorded CPU')} "
            f"({flags}), oneDNN {onednn}")


def _names(runs: Sequence[dict[str, Any]]) -> str:
    """E.g. "Baseline 256-d, ACAI 256-d"."""
    return ", ".join(mnist_curves.label(run) for run in runs)


def _reached(runs: Sequence[dict[str, Any]]) -> str:
    """E.g. "Baseline 256-d at 2,368 kimg, ACAI 256-d at 832 kimg"."""
    return ", ".join(f"{mnist_curves.label(run)} at {kimg_reached(run):,g} kimg" for run in runs)


def _by_value(runs: Sequence[dict[str, Any]],
              value: Callable[[dict[str, Any]], Any]) -> dict[Any, list[dict[str, Any]]]:
    """The runs grouped by `value(run)`, in the order first seen."""
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for run in runs:
        grouped.setdefault(value(run), []).append(run)
    return grouped


def header(runs: Sequence[dict[str, Any]], source: str, command: str = "") -> str:
    """The tables' header: budgets, runs still training, precision and CPU, what evaluated the
    checkpoints, the records' folder and the command."""
    budgets = _by_value(runs, train_kimg)
    budget = ("; ".join(f"train_kimg = {kimg:,g} for {_names(group)}"
                        for kimg, group in sorted(budgets.items(), reverse=True))
              if len(budgets) > 1 else f"train_kimg = {next(iter(budgets)):,g} per run")
    train = [run["config"]["train"] for run in runs]
    reports = ", ".join(f"{kimg:g}" for kimg in sorted({t["report_kimg"] for t in train}))
    batches = ", ".join(str(batch) for batch in sorted({t["batch"] for t in train}))
    training = [run for run in runs if still_training(run)]
    finished = [run for run in runs if not still_training(run)]
    starts = _by_value(runs, lambda run: "; ".join(dict.fromkeys(
        _start(start, run["config"]["train"].get("precision", "?"))
        for start in run["config"].get("runs") or [{}])))
    machines = (next(iter(starts)) + " (every start of every run)" if len(starts) == 1 else
                "; ".join(f"{_names(group)}: {text}" for text, group in starts.items()))
    evaluations = [results for run in runs for results in run["evaluations"]]
    probes = sorted({name for name in map(results_lib.probe_implementation, evaluations) if name})
    latents = [f"{count:,}" for count in sorted({
        int(results["clustering"]["train_examples"]) for results in evaluations
        if (results.get("clustering") or {}).get("train_examples") is not None})]
    commits = dict.fromkeys(stage["commit"] for run in runs
                            for stage in table_outputs.training_stages(run["folder"])
                            if stage["commit"])
    lines = [
        "# Tables 2 and 3 (MNIST) at the paper's budget, from the long runs' records", "",
        f"- Budget: {budget} (the paper: {PAPER_KIMG:,}); a test accuracy of the in-training "
        f"classifier every report_kimg = {reports} (the paper: 64); Table 2's cell is the "
        f"median of the last {LAST_N} (the paper's protocol); batch {batches}.",
        f"- Still training (below their train_kimg): {_reached(training) or 'none'}"
        + (f". Finished: {_reached(finished)}." if finished else "."),
        f"- Precision and CPU, from each run's config.json: {machines}.",
        "- Precision by kimg: " + "; ".join(
            f"{mnist_curves.label(run)}: " + run_records.precision_history(
                run["config"]["train"], run["config"].get("runs") or []) for run in runs) + ".",
        "- Checkpoint evaluations (`milestones/` of each record; `eval/results.json` once a run "
        f"has finished): the linear probe ({', '.join(probes) or 'none yet'}) and K-means on "
        f"{', '.join(latents) or 'the'} train latents, with the restarts each cell gives "
        "(the paper: 1,000 at the final checkpoint).",
        f"- Trained by commit(s): {', '.join(commits) or 'unknown'}.",
        f"- Source: the records in `{source}` (saved by `benchmarks/long_runs.py`); `.lost-*` "
        "folders, the records of runs lost and restarted from step 0, are left out.",
    ]
    if command:
        lines.append(f"- Command: `{command}`")
    return "\n".join(lines) + "\n"


def markdown(runs: Sequence[dict[str, Any]], source: str, command: str = "") -> str:
    """The whole of mnist_tables.md: the header, Table 2 and Table 3 with their notes."""
    unevaluated = [run for run in runs if not kmeans_cells(run)]
    grid3 = table3(runs)
    parts = [
        header(runs, source, command),
        "### Table 2: single-layer classifier on the latents, test accuracy (%)", "",
        *table2(runs), "",
        "Each cell: the value, then the kimg it was measured at (the classifier's last report, "
        f"the probe's checkpoint); \"median of n\" when a run has fewer than {LAST_N} reports.",
        "", "### Table 3: K-means clustering of the latents, accuracy (%), per checkpoint", "",
        *(grid3 or ["No checkpoint has a K-means result yet."]), "",
        "Each cell: the accuracy, then its checkpoint's kimg and the K-means restarts (n_init; "
        "the paper: 1,000)." + (f" No checkpoint evaluated yet: {_names(unevaluated)}."
                                 if grid3 and unevaluated else ""),
    ]
    return "\n".join(parts) + "\n"


def csv_rows(runs: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Long format, one row per cell (CSV_HEADER): table, model, latent_dim, seed, value, kimg,
    n_init and reports (empty when not applicable), run_kimg (the run's last report) and
    train_kimg (its budget)."""
    rows = []
    for run in runs:
        cells = [(TRAINING, training_cell(run)), (PROBE, probe_cell(run))]
        cells += [(KMEANS, cell) for cell in kmeans_cells(run)]
        rows += [[table, run["model"], run["latent_dim"], run["seed"], repr(cell.value),
                  f"{cell.kimg:g}", "" if cell.n_init is None else cell.n_init,
                  "" if cell.reports is None else cell.reports, f"{kimg_reached(run):g}",
                  f"{train_kimg(run):g}"] for table, cell in cells if cell]
    return rows


def write(records_dir: str, out_dir: str, *, source: str | None = None,
          command: str = "") -> list[str]:
    """Writes MARKDOWN and CSV into out_dir (atomically) and returns their paths.

    Args:
        records_dir: the saved records (results/runs).
        out_dir: the outputs' folder (results/paper_budget), created if missing.
        source: how the header names records_dir (default: as given).
        command: the command recorded in the header.

    Raises:
        UserError: no records (see `load`).
    """
    runs = load(records_dir)
    os.makedirs(out_dir, exist_ok=True)
    paths = [os.path.join(out_dir, MARKDOWN), os.path.join(out_dir, CSV)]
    atomic_write.write_text(paths[0], markdown(runs, source or records_dir, command))
    atomic_write.write_text(paths[1], text_tables.csv_text(CSV_HEADER, csv_rows(runs)))
    return paths
