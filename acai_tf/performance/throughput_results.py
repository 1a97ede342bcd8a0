"""The throughput results file: its rows' keys, merging runs into one file of one machine, and the
Markdown table.

A file is {"machine": machine.describe(), "results": [record, ...]}; each record is a row (the
ROW_KEY fields) with its measurement (`acai_tf.performance.throughput.timed_result`). Records
written before a field existed lack it: ROW_KEY reads them with the field's old implicit value, and
the table counts the FLOPs of a record without "flop_per_image" and shows "–" where it has no
matrix-multiply reference.
"""

from __future__ import annotations

import json
from typing import Any

from acai_tf.performance import throughput

# What a measurement is of; records from before a field existed read as its old implicit value.
ROW_KEY = {"model": None, "config": None, "batch": None, "xla": False, "precision": "float32",
           "conv_gradient": None, "update_order": None, "onednn": None}

# The machine fields that every row of one file shares. oneDNN is not among them: it is a
# per-process state, recorded per row.
SAME_MACHINE_FIELDS = ("cpu", "cpu_flags", "cores", "usable_cores", "gpus", "tensorflow", "keras")


def _key(record: dict) -> tuple:
    return tuple(record.get(field, default) for field, default in ROW_KEY.items())


def merge(old: list[dict], new: list[dict]) -> list[dict]:
    """old with every measurement of new added, replacing those with the same ROW_KEY."""
    replaced = {_key(record) for record in new}
    return [record for record in old if _key(record) not in replaced] + list(new)


def machine_differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """'field: stored value -> current value' for each SAME_MACHINE_FIELDS entry that differs."""
    return [f"{field}: {stored.get(field)!r} -> {current.get(field)!r}"
            for field in SAME_MACHINE_FIELDS if stored.get(field) != current.get(field)]


def stored_results(path: str, description: dict[str, Any]) -> list[dict]:
    """The results already in `path` (a throughput JSON) if it was measured on this machine.

    Raises:
        ValueError: the file is not such a JSON, or it describes another machine.
    """
    try:
        with open(path, encoding="utf-8") as f:
            stored = json.load(f)
        stored_machine, results = stored["machine"], stored["results"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"--append: cannot read {path} as a throughput JSON "
                         f"({type(error).__name__}: {error})") from error
    differences = machine_differences(stored_machine, description)
    if differences:
        raise ValueError(f"--append: {path} was measured on another machine "
                         f"({'; '.join(differences)}); write this one to a new --json")
    return results


def _flop_cells(record: dict) -> list[str]:
    """The GFLOP/img, GFLOP/s and matrix-multiply cells of a record."""
    flop = record.get("flop_per_image") or throughput.flop_per_image(record)
    rate = record["images_per_second"]
    matmul = record.get("matmul")
    reference = " / ".join(f"{matmul[f'{dtype}_gflop_per_second']:.1f}"
                           for dtype in throughput.MATMUL_DTYPES) if matmul else "–"
    return [f"{flop / 1e9:.3f}", f"{rate * flop / 1e9:.1f}" if rate is not None else "–",
            reference]


def to_markdown(results: list[dict], description: dict[str, Any]) -> str:
    """A table of images/s and GFLOP/s, one row per ROW_KEY, under a header naming the machine."""
    # pylint: disable=import-outside-toplevel
    from acai_tf import models
    from acai_tf.outputs import text_tables
    from acai_tf.training import machine
    from acai_tf.reproduction.paper_tables import display_name

    order = list(models.names())
    ordered = sorted(results, key=lambda r: (
        list(throughput.CONFIGS).index(r["config"]), r["batch"], order.index(r["model"]),
        str(r.get("update_order")), str(r.get("onednn")), str(r.get("conv_gradient")),
        r.get("precision", "float32"), r["xla"]))
    sizes = sorted({r["matmul"]["size"] for r in results if r.get("matmul")})
    product = " or ".join(f"{n}×{n} by {n}×{n}" for n in sizes) or "large square"
    lines = ["# Training throughput", "",
             f"Machine: {machine.one_line(description, with_onednn=False)}.", "",
             "Images per second of `fit()` on one fixed in-memory batch (the data pipeline is "
             "not measured), timed after the warm-up steps. oneDNN: TensorFlow's oneDNN CPU "
             "kernels in that measurement (on by default on CPUs with AVX-512 VNNI/BF16; "
             "TF_ENABLE_ONEDNN_OPTS sets it). Conv gradient: the path `acai_tf.speed.fast_conv` "
             "used. Load: the 1-minute load average when the measurement started (the "
             "benchmark alone keeps it near 1 to 2; more means the cores were shared).", "",
             "GFLOP/img: the multiply-adds (2 FLOPs each) of the convolutions and matrix "
             "products of one train step per training image, forward and backward, as the step "
             "runs its layers (`acai_tf.performance.flops`); GFLOP/s: images/s times "
             "GFLOP/img. Matmul GFLOP/s: a "
             f"{product} matrix product in float32 / bfloat16, timed in the same process as "
             "the row (same cores and threads) before its models: what these cores attain on "
             "one large product (– where the row's run did not time it).", ""]
    table_rows = []
    for r in ordered:
        size, colors, depth, latent, width = throughput.model_shape(r["model"], r["config"])
        config = f"{r['config']} (depth {depth}, latent {latent}×{width}×{width})"
        rate = (f"{r['images_per_second']:.1f}" if r["images_per_second"] is not None
                else f"failed: {r.get('error', 'unknown error')}")
        onednn = {True: "on", False: "off"}.get(r.get("onednn"), "?")
        table_rows.append([display_name(r["model"]), config, r["batch"],
                           r.get("update_order") or "–", onednn, r.get("conv_gradient") or "?",
                           r.get("precision", "float32"), "yes" if r["xla"] else "no", rate,
                           *_flop_cells(r), f"{r['steps']} ({r['warmup']})", r["load_average"]])
    lines += text_tables.markdown(
        ["Model", "Config", "Batch", "Order", "oneDNN", "Conv gradient", "Precision", "XLA",
         "Images/s", "GFLOP/img", "GFLOP/s", "Matmul GFLOP/s f32 / bf16", "Steps (warm-up)",
         "Load"], table_rows)
    return "\n".join(lines) + "\n"
