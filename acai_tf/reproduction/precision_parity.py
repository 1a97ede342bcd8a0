"""Does a precision change Table 1? Runs of one precision beside the spread of another's.

Reads the JSON records that `benchmarks/reproduce_lines.py` writes (`lines_reproduction.json`:
budget, precision, machine and every run's training-time medians) and sets every run of the
candidate precision beside the range of the reference runs of the same model, metric by metric:

    | Model | Metric | reference runs | reference range | candidate runs | inside the range |

A run counts as inside when its value lies within [min, max] of the reference runs. Every record
must share the budget (train_kimg, report_kimg, last_n): medians of different protocols are not
comparable. `benchmarks/precision_parity.py` is the command.
"""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

from acai_tf.errors import UserError
from acai_tf.outputs import text_tables
from acai_tf.reproduction import paper_tables

# (JSON key of the training-time median, table label, scale)
METRICS = (("eval/mean_distance", "Mean distance (×10³)", 1e3),
           ("eval/mean_smoothness", "Mean smoothness", 1.0))
_BUDGET = ("train_kimg", "report_kimg")


class ParityError(UserError, ValueError):
    """The records cannot be compared; the message is one line."""


def load(path: str) -> dict[str, Any]:
    """One lines_reproduction.json, with "path" added; ParityError if unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError) as error:
        raise ParityError(f"cannot read {path}: {error}") from None
    if not {"train", "runs", "last_n", "machine"} <= set(record):
        raise ParityError(f"{path} is not a lines_reproduction.json of reproduce_lines.py")
    return {**record, "path": path}


def _budget(record: dict[str, Any]) -> tuple[Any, ...]:
    return (*(record["train"].get(key) for key in _BUDGET), record["last_n"])


def _values(records: Sequence[dict[str, Any]], model: str, key: str,
            scale: float) -> list[tuple[int, str, float]]:
    """[(seed, cpu, value)] of the runs of `model` in `records`."""
    found = []
    for record in records:
        for run in record["runs"]:
            value = run["training_medians"].get(key)
            if run["model"] == model and value is not None:
                found.append((run["seed"], record["machine"]["cpu"], value * scale))
    return found


def _cell(values: Sequence[tuple[int, str, float]]) -> str:
    return "; ".join(f"seed {seed} {value:.2f} ({cpu})" for seed, cpu, value in values) or "–"


def compare(reference: Sequence[dict[str, Any]], candidate: Sequence[dict[str, Any]]
            ) -> list[dict[str, Any]]:
    """One row per (model, metric) the candidate records hold: {model, metric, reference,
    candidate (lists of (seed, cpu, value)), low, high, inside (one bool per candidate run)}.

    Raises:
        ParityError: no record on a side, records of different budgets, or a candidate model
            without reference runs.
    """
    if not reference or not candidate:
        raise ParityError("need at least one reference and one candidate record")
    budgets = {_budget(record) for record in (*reference, *candidate)}
    if len(budgets) > 1:
        raise ParityError("the records have different budgets (train_kimg, report_kimg, last_n): "
                          + ", ".join(f"{record['path']} {_budget(record)}"
                                      for record in (*reference, *candidate)))
    order = list(paper_tables.DISPLAY_NAMES)  # the paper's column order
    models = sorted({run["model"] for record in candidate for run in record["runs"]},
                    key=lambda name: (order.index(name) if name in order else len(order), name))
    rows = []
    for model in models:
        for key, label, scale in METRICS:
            ours = _values(candidate, model, key, scale)
            theirs = [value for value in _values(reference, model, key, scale)
                      if not math.isnan(value[2])]
            if not ours:
                continue
            if not theirs:
                raise ParityError(f"no reference run of {model} with {key}")
            low, high = min(v for _, _, v in theirs), max(v for _, _, v in theirs)
            rows.append({"model": model, "metric": label, "reference": theirs, "candidate": ours,
                         "low": low, "high": high,
                         "inside": [low <= value <= high for _, _, value in ours]})
    return rows


def precision_of(records: Sequence[dict[str, Any]]) -> str:
    """The precision(s) the records' runs trained in, e.g. "float32"."""
    return ", ".join(dict.fromkeys(record["train"].get("precision", "float32")
                                   for record in records))


def markdown(reference: Sequence[dict[str, Any]], candidate: Sequence[dict[str, Any]],
             command: str = "") -> str:
    """The comparison as a Markdown page: sources, budget, the table and its count."""
    rows = compare(reference, candidate)
    ref_name, cand_name = precision_of(reference), precision_of(candidate)
    train = reference[0]["train"]
    lines = [f"# {cand_name} against {ref_name} on lines32 (Table 1's protocol)", "",
             f"- Budget: train_kimg = {train['train_kimg']:g}, a lines evaluation every "
             f"report_kimg = {train['report_kimg']:g}; per run, the median of the last "
             f"{reference[0]['last_n']} evaluations.",
             *(f"- {side}: `{record['path']}`, {record['train'].get('precision', 'float32')}, "
               f"{record['machine']['cpu']} ({' '.join(record['machine']['cpu_flags'])}), "
               f"oneDNN {'on' if record['machine'].get('onednn') else 'off'}."
               for side, records in (("Reference", reference), ("Candidate", candidate))
               for record in records)]
    if command:
        lines.append(f"- Command: `{command}`")
    cells = [[paper_tables.display_name(row["model"]), row["metric"], _cell(row["reference"]),
              f"{row['low']:.2f} – {row['high']:.2f}", _cell(row["candidate"]),
              ", ".join("yes" if inside else "no" for inside in row["inside"])]
             for row in rows]
    inside = sum(sum(row["inside"]) for row in rows)
    total = sum(len(row["inside"]) for row in rows)
    lines += ["", *text_tables.markdown(
        ["Model", "Metric", f"reference runs ({ref_name})", "reference range",
         f"candidate runs ({cand_name})", "inside the range"], cells), "",
        f"{inside} of {total} {cand_name} values lie inside the range of the {ref_name} runs "
        "of their model (min to max over every reference run, whatever its machine)."]
    return "\n".join(lines) + "\n"
