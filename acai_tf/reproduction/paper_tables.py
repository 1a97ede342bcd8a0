"""The paper's tables across runs (models x seeds), as Markdown and CSV, and a side-by-side figure:
the library behind the `report` binary.

Runs (`acai_tf.reproduction.run_records`) are grouped by (dataset, model, latent dim); a cell is
mean ± std over the group's runs (np.std, ddof=0, as the paper's notebook). Rows are (dataset,
latent dim[, metric]) and columns the models, in the registry's (the paper's) order; only what the
runs hold is shown. Tables, by file name:

- table1_lines: mean distance (x10^3) and smoothness at the evaluated checkpoint;
- table1_lines_training: the paper's Table-1 protocol, from the training-time evaluations in
  W/metrics.jsonl (eval/mean_distance, eval/mean_smoothness): per run the median of the last
  `last_n` reported values, then mean ± std over runs;
- table2_classifier: the in-training latent classifier's test accuracy (%) at the checkpoint;
- table2_classifier_training: the same by the paper's protocol (eval/latent_accuracy, median
  of the last `last_n` values);
- table2_probe: the post-hoc linear probe's test accuracy (%), with what fit the probes;
- table3_clustering: K-means clustering accuracy (%).

Each table is written as <name>.md (with a note on run counts) and <name>.csv (long format:
dataset, latent_dim, metric, model, mean, std, runs); tables.md holds them all. Checkpoint
values come from W/eval/results.json (see acai_tf.evaluation.checkpoint_eval).
"""

from __future__ import annotations

import collections
import dataclasses
import os
from typing import Any, Callable, Sequence

import numpy as np

from acai_tf.outputs import atomic_write, images, text_tables
from acai_tf.evaluation import results as results_lib
from acai_tf.reproduction.run_records import ReportError, Run, groups

# Paper spellings of the registered model names (others are shown as registered).
DISPLAY_NAMES = {"baseline": "Baseline", "dropout": "Dropout", "denoising": "Denoising",
                 "vae": "VAE", "aae": "AAE", "vqvae": "VQ-VAE", "acai": "ACAI"}


@dataclasses.dataclass(frozen=True)
class _Metric:
    """One kind of table row: a label, where a run keeps the value, and the display scale.

    `value(run)` returns _ABSENT when the run did not measure the metric, None when it was
    measured but came out NaN, else the value.
    """

    label: str
    value: Callable[[Run], Any]
    scale: float = 1.0


_ABSENT = object()


def _result(part: str, key: str) -> Callable[[Run], Any]:
    return lambda run: ((run.results or {}).get(part) or {}).get(key, _ABSENT)


def _training(tag: str) -> Callable[[Run], Any]:
    return lambda run: run.training.get(tag, _ABSENT)


def _kmeans_note(runs: Sequence[Run]) -> str:
    settings = [run.results["clustering"] for run in runs
                if (run.results or {}).get("clustering")]

    def values(key: str) -> str:
        return ", ".join(str(value) for value in sorted({setting.get(key) for setting in settings},
                                                         key=str))

    return (f"K-means restarts (n_init): {values('n_init')}; train latents: "
            f"{values('train_examples')}.")


def _probe_note(runs: Sequence[Run]) -> str:
    """What fit the probes of `runs`; results that predate the record of it were fit by the
    hand-written softmax (`results.LEGACY_PROBE_IMPLEMENTATION`), and the note says so."""
    counts = collections.Counter(results_lib.probe_implementation(run.results or {})
                                 for run in runs)
    counts.pop(None, None)

    def said(name: str) -> str:
        return (f"{name} (results that predate the record of the probe's implementation)"
                if name == results_lib.LEGACY_PROBE_IMPLEMENTATION else name)

    if len(counts) == 1:
        return f"Probe: {said(next(iter(counts)))}."
    return "Probe: " + "; ".join(f"{said(name)}, {count} run(s)"
                                 for name, count in sorted(counts.items())) + "."


def _last_n_note(runs: Sequence[Run]) -> str:
    last_n = ", ".join(sorted({str(run.last_n) for run in runs}))
    return f"Per run: the median of the last {last_n} training-time evaluations."


_DISTANCE, _SMOOTHNESS, _ACCURACY = "Mean distance (×10³)", "Mean smoothness", "Accuracy (%)"
_LONG_WAY = "Long way round (%, beyond the paper)"
_TRAINING = "training-time evaluations"
# name: (title, row metrics, note on how runs were measured).
TABLES: dict[str, tuple[str, tuple[_Metric, ...], Callable[[Sequence[Run]], str] | None]] = {
    "table1_lines": ("Table 1: lines interpolation, evaluated checkpoint", (
        _Metric(_DISTANCE, _result("lines", "mean_distance"), 1e3),
        _Metric(_SMOOTHNESS, _result("lines", "mean_smoothness")),
        _Metric(_LONG_WAY, _result("lines", "long_way_fraction"), 100)), None),
    "table1_lines_training": (f"Table 1: lines interpolation, {_TRAINING}", (
        _Metric(_DISTANCE, _training("eval/mean_distance"), 1e3),
        _Metric(_SMOOTHNESS, _training("eval/mean_smoothness")),
        _Metric(_LONG_WAY, _training("eval/long_way_fraction"), 100)), _last_n_note),
    "table2_classifier": ("Table 2: single-layer classifier, evaluated checkpoint", (
        _Metric(_ACCURACY, _result("classifier", "in_training_accuracy")),), None),
    "table2_classifier_training": (f"Table 2: single-layer classifier, {_TRAINING}", (
        _Metric(_ACCURACY, _training("eval/latent_accuracy")),), _last_n_note),
    "table2_probe": ("Linear probe on frozen latents", (
        _Metric(_ACCURACY, _result("classifier", "probe_accuracy")),), _probe_note),
    "table3_clustering": ("Table 3: K-means clustering", (
        _Metric(_ACCURACY, _result("clustering", "accuracy")),), _kmeans_note),
}


def mean_std(values: Sequence[float | None]) -> tuple[float, float]:
    """Mean and population std (np.std, ddof=0); a NaN run (None) makes both NaN."""
    array = np.array([np.nan if value is None else value for value in values], np.float64)
    return float(np.mean(array)), float(np.std(array))


UNDEFINED = "undefined"
_UNDEFINED_NOTE = (f"{UNDEFINED}: the metric is NaN in at least one run of the cell (mean "
                   "smoothness is NaN when no interpolation of the evaluation has a defined "
                   "score, e.g. when every decoded image matches the same reference line; see "
                   "acai_tf/lines/metric.py).")


def format_cell(mean: float, std: float) -> str:
    """'mean ± std' with two decimals, or UNDEFINED when a run's value was NaN."""
    return UNDEFINED if np.isnan(mean) else f"{mean:.2f} ± {std:.2f}"


def display_name(model: str) -> str:
    return DISPLAY_NAMES.get(model, model)


def _order(known: Sequence[str], name: str) -> tuple[int, str]:
    return (list(known).index(name) if name in known else len(known), name)


def build_table(name: str, runs: Sequence[Run]) -> dict[str, Any] | None:
    """The table `name` of TABLES over runs, or None when no run measured its metrics.

    Returns:
        {"name", "title", "columns": model names in paper order, "note": how the values were
        measured (or ""), "rows": [(dataset, latent dim, metric label, {model: (mean, std,
        number of runs)})]}.
    """
    # pylint: disable=import-outside-toplevel
    from acai_tf import datasets, models

    title, metrics, note = TABLES[name]
    cells: dict[tuple[str, int, str], dict[str, tuple[float, float, int]]] = {}
    for (dataset, model, latent), group in groups(runs).items():
        for metric in metrics:
            values = [metric.value(run) for run in group]
            values = [None if value is None else value * metric.scale for value in values
                      if value is not _ABSENT]
            if values:
                cells.setdefault((dataset, latent, metric.label), {})[model] = (
                    *mean_std(values), len(values))
    if not cells:
        return None
    labels = [metric.label for metric in metrics]
    rows = sorted(cells, key=lambda row: (_order(datasets.names(), row[0]), row[1],
                                          labels.index(row[2])))
    columns = sorted({model for row in cells.values() for model in row},
                     key=lambda model: _order(models.names(), model))
    measured = [run for run in runs if any(metric.value(run) is not _ABSENT
                                           for metric in metrics)]
    return {"name": name, "title": title, "columns": columns, "note": note(measured) if note
            else "", "rows": [(*row, cells[row]) for row in rows]}


def to_markdown(table: dict[str, Any]) -> str:
    """The table in Markdown: a title, the grid of mean ± std, and the run counts."""
    header = ["Dataset", "Latent dim", "Metric"] + [display_name(model)
                                                    for model in table["columns"]]
    counts = {cell[2] for *_, cells in table["rows"] for cell in cells.values()}
    grid = text_tables.markdown(header, [
        [dataset, latent, label, *(format_cell(*cells[model][:2]) if model in cells else "–"
                                   for model in table["columns"])]
        for dataset, latent, label, cells in table["rows"]])
    runs = "-".join(str(count) for count in sorted({min(counts), max(counts)}))
    undefined = any(np.isnan(cell[0]) for *_, cells in table["rows"] for cell in cells.values())
    lines = [f"### {table['title']}", "", *grid, "",
             f"Mean ± std (ddof=0) over {runs} run(s) per cell. {table['note']}".rstrip()]
    if undefined:
        lines[-1] += " " + _UNDEFINED_NOTE
    return "\n".join(lines) + "\n"


def to_csv(table: dict[str, Any]) -> str:
    """The table in long format: dataset, latent_dim, metric, model, mean, std, runs."""
    return text_tables.csv_text(
        ["dataset", "latent_dim", "metric", "model", "mean", "std", "runs"],
        [[dataset, latent, label, model, repr(cells[model][0]), repr(cells[model][1]),
          cells[model][2]]
         for dataset, latent, label, cells in table["rows"]
         for model in table["columns"] if model in cells])


def comparison_figures(runs: Sequence[Run]) -> dict[str, np.ndarray]:
    """{dataset: RGB uint8 figure}: each model's eval/interpolation.png (of its lowest-seed
    run that has one) side by side, labelled, in paper order by latent dim."""
    from acai_tf import models  # pylint: disable=import-outside-toplevel

    blocks: dict[str, list[tuple[tuple, str, np.ndarray]]] = {}
    for (dataset, model, latent), group in groups(runs).items():
        with_figure = [run for run in group
                       if os.path.isfile(results_lib.figure_path(run.workdir))]
        if with_figure:
            run = min(with_figure, key=lambda run: run.config["train"]["seed"])
            blocks.setdefault(dataset, []).append((
                (latent, _order(models.names(), model)),
                f"{display_name(model)}, latent {latent}",
                images.read_png(results_lib.figure_path(run.workdir))))
    return {dataset: images.side_by_side([(label, image) for _, label, image in sorted(
        items, key=lambda item: item[0])]) for dataset, items in blocks.items()}


def write_report(runs: Sequence[Run], output_dir: str) -> list[str]:
    """Writes every table that has values (.md and .csv), tables.md and the figures.

    Returns:
        The paths written.
    """
    if not runs:
        raise ReportError("no runs to report")
    os.makedirs(output_dir, exist_ok=True)
    written, sections = [], []
    for name in TABLES:
        table = build_table(name, runs)
        if table is None:
            continue
        for extension, text in (("md", to_markdown(table)), ("csv", to_csv(table))):
            written.append(write_text(os.path.join(output_dir, f"{name}.{extension}"), text))
        sections.append(to_markdown(table))
    written.append(write_text(os.path.join(output_dir, "tables.md"), "\n".join(sections)))
    for dataset, image in comparison_figures(runs).items():
        path = os.path.join(output_dir, f"interpolation_{dataset.replace(':', '_')}.png")
        images.write_png(path, image)
        written.append(path)
    return written


def write_text(path: str, text: str) -> str:
    """Replaces path with UTF-8 text atomically (`atomic_write`) and returns the path."""
    atomic_write.write_text(path, text)
    return path
