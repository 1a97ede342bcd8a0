"""Training throughput (images/s) of every model's train step, as JSON and a Markdown table.

    python benchmarks/train_throughput.py                       # lines32 config, batch 64
    python benchmarks/train_throughput.py --models=acai --batch=64,256 --xla
    python benchmarks/train_throughput.py --config=mnist32,svhn32 --json=results/throughput.json \
        --markdown=results/throughput.md --append
    TF_ENABLE_ONEDNN_OPTS=0 python benchmarks/train_throughput.py --models=acai \
        --conv_gradient=stock,forward --update_order=alternating,simultaneous \
        --precision=float32,mixed_bfloat16 --json=results/throughput.json --append

Runs `fit()` on a fixed in-memory batch (so the data pipeline is not measured), discards the
warm-up (tracing) steps and times the rest from inside the same fit() call (its start-up and
shut-down, seconds long, would otherwise count as training time). Prints one line per
(model, config, batch, xla).
--xla also times each model with compile(jit_compile=True) (--xla_only: only so); a model whose
step XLA cannot compile is recorded with the error instead of a rate. --json and --markdown
write the results with the machine's description; --append first reads the results already in
--json (a measurement of the same row key is replaced), so that several runs build one table.

Every row records what decides TensorFlow's CPU speed: oneDNN on or off (a process-wide state:
run once per TF_ENABLE_ONEDNN_OPTS value and --append), the conv gradient path actually used
(`auto` resolved), the precision, ACAI's and the AAE's update order; the file's header records
the machine (CPU and its flags, cores, versions). One file holds one machine: --append refuses,
before timing anything, a --json measured on another (SAME_MACHINE_FIELDS differ), so that no
row is filed under a CPU it did not run on.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import sys
import time
from typing import Any

from absl import app, flags

# Run as a script, only benchmarks/ is on sys.path; the shared flag parsing lives in flags/.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# The paper's runs timed (acai_tf.paper_runs): those of these datasets with 16 latent channels.
CONFIGS = ("lines32", "mnist32", "svhn32")
CONFIG_LATENT = 16


def define_flags() -> None:
    """Defines the flags (at run time, so that importing this module defines none)."""
    flags.DEFINE_list("models", None, "Models to time (default: all registered).")
    flags.DEFINE_list("batch", ["64"], "Global batch sizes.")
    flags.DEFINE_list("config", ["lines32"], f"Paper configurations among {', '.join(CONFIGS)}.")
    flags.DEFINE_bool("xla", False, "Also time with jit_compile=True.")
    flags.DEFINE_bool("xla_only", False, "Time only with jit_compile=True.")
    flags.DEFINE_integer("steps", 30, "Timed steps per measurement.", lower_bound=1)
    flags.DEFINE_integer("warmup", 5, "Untimed steps first (tracing, allocator warm-up).",
                         lower_bound=1)
    flags.DEFINE_string("json", None, "Write the results here as JSON.")
    flags.DEFINE_string("markdown", None, "Write the results here as a Markdown table.")
    flags.DEFINE_bool("append", False, "Merge with the results already in --json.")
    flags.DEFINE_list("conv_gradient", ["auto"], "Conv gradient paths: auto, stock, forward.")
    flags.DEFINE_list("precision", ["float32"],
                      "Precisions: float32, mixed_bfloat16, mixed_float16.")
    flags.DEFINE_list("update_order", ["alternating"],
                      "ACAI's and the AAE's update orders: alternating, simultaneous (other "
                      "models are timed once).")


def load_average() -> float | None:
    """The 1-minute load average: how busy the (possibly shared) cores were."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def measure(row: dict[str, Any], steps: int, warmup: int) -> float:
    """Images per second of `fit()` on the model a row describes, after warm-up."""
    # pylint: disable=import-outside-toplevel
    import numpy as np
    import tensorflow as tf

    from acai_tf import fast_conv, models
    from acai_tf.config import ModelConfig

    name, batch = row["model"], row["batch"]
    hparams = ({"update_order": row["update_order"]} if row["update_order"] else {})
    config = ModelConfig(name=name, hparams=hparams, **dict(zip(
        ("image_size", "colors", "depth", "latent", "latent_width"),
        model_shape(name, row["config"]))))
    with fast_conv.creating(row["conv_gradient"]):
        model = models.build(config, seed=0, precision=row["precision"])
    model.compile(jit_compile=row["xla"])
    rng = np.random.default_rng(0)
    size, colors = config.image_size, config.colors
    data = {"image": rng.uniform(-1, 1, (batch, size, size, colors)).astype("float32"),
            "label": rng.integers(0, 10, batch)}
    dataset = tf.data.Dataset.from_tensors(data).repeat()
    clock = _step_clock(warmup)
    model.fit(dataset, steps_per_epoch=warmup + steps, epochs=1, verbose=0, callbacks=[clock])
    return steps * batch / clock.elapsed


def _step_clock(warmup: int):
    """A fit() callback whose `elapsed` is the time from the end of step `warmup` to the end of
    the last step: timing inside one fit() leaves out fit()'s own start-up and shut-down, which
    take up to seconds and would count as training time in a short measurement."""
    import keras  # pylint: disable=import-outside-toplevel

    class StepClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.start = self.end = None

        def on_train_batch_end(self, batch, logs=None):
            del logs
            self.end = time.perf_counter()
            if batch == warmup - 1:
                self.start = self.end

        @property
        def elapsed(self) -> float:
            return self.end - self.start

    return StepClock()


def model_shape(name: str, config_name: str) -> tuple[int, int, int, int, int]:
    """(image size, colors, depth, latent, latent_width) of a model in a paper configuration."""
    # pylint: disable=import-outside-toplevel
    from acai_tf import datasets, paper_runs

    run = paper_runs.find(config_name, name, CONFIG_LATENT)
    info = datasets.get_info(run.dataset)
    return info.image_size, info.colors, run.depth, run.latent, run.latent_width


def timed_result(row: dict[str, Any], steps: int, warmup: int) -> dict[str, Any]:
    """One measurement of `row` (see ROW_KEY) as a JSON record; a failure (e.g. XLA) is
    recorded, not raised."""
    import keras  # pylint: disable=import-outside-toplevel

    record = {**row, "steps": steps, "warmup": warmup, "load_average": load_average()}
    try:
        record["images_per_second"] = round(measure(row, steps, warmup), 1)
    except Exception as error:  # pylint: disable=broad-except
        # Any failure of the compiled step (mostly XLA) becomes a table entry, not a crash.
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        record["images_per_second"] = None
        record["error"] = f"{type(error).__name__}: {message}"[:300]
    keras.backend.clear_session()  # Thirty models in one process would otherwise pile up.
    gc.collect()
    return record


# What a measurement is of; records from before a field existed read as its old implicit value.
ROW_KEY = {"model": None, "config": None, "batch": None, "xla": False, "precision": "float32",
           "conv_gradient": None, "update_order": None, "onednn": None}


def _key(record: dict) -> tuple:
    return tuple(record.get(field, default) for field, default in ROW_KEY.items())


def merge(old: list[dict], new: list[dict]) -> list[dict]:
    """old with every measurement of new added, replacing those with the same ROW_KEY."""
    replaced = {_key(record) for record in new}
    return [record for record in old if _key(record) not in replaced] + list(new)


# The machine fields that every row of one file shares. oneDNN is not among them: it is a
# per-process state, recorded per row.
SAME_MACHINE_FIELDS = ("cpu", "cpu_flags", "cores", "usable_cores", "gpus", "tensorflow", "keras")


def machine_differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """'field: stored value -> current value' for each SAME_MACHINE_FIELDS entry that differs."""
    return [f"{field}: {stored.get(field)!r} -> {current.get(field)!r}"
            for field in SAME_MACHINE_FIELDS if stored.get(field) != current.get(field)]


def stored_results(path: str, description: dict[str, Any]) -> list[dict]:
    """The results already in `path` (a --json of this script) if it was measured on this machine.

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


def to_markdown(results: list[dict], description: dict[str, Any]) -> str:
    """A table of images/s, one row per ROW_KEY, under a header naming the machine."""
    # pylint: disable=import-outside-toplevel
    from acai_tf import machine, models, text_tables
    from acai_tf.paper_tables import display_name

    order = list(models.names())
    ordered = sorted(results, key=lambda r: (
        list(CONFIGS).index(r["config"]), r["batch"], order.index(r["model"]),
        str(r.get("update_order")), str(r.get("onednn")), str(r.get("conv_gradient")),
        r.get("precision", "float32"), r["xla"]))
    lines = ["# Training throughput", "",
             f"Machine: {machine.one_line(description, with_onednn=False)}.", "",
             "Images per second of `fit()` on one fixed in-memory batch (the data pipeline is "
             "not measured), timed after the warm-up steps. oneDNN: TensorFlow's oneDNN CPU "
             "kernels in that measurement (on by default on CPUs with AVX-512 VNNI/BF16; "
             "TF_ENABLE_ONEDNN_OPTS sets it). Conv gradient: the path `acai_tf.fast_conv` "
             "used. Load: the 1-minute load average when the measurement started (the "
             "benchmark alone keeps it near 1 to 2; more means the cores were shared).", ""]
    table_rows = []
    for r in ordered:
        size, colors, depth, latent, width = model_shape(r["model"], r["config"])
        config = f"{r['config']} (depth {depth}, latent {latent}×{width}×{width})"
        rate = (f"{r['images_per_second']:.1f}" if r["images_per_second"] is not None
                else f"failed: {r.get('error', 'unknown error')}")
        onednn = {True: "on", False: "off"}.get(r.get("onednn"), "?")
        table_rows.append([display_name(r["model"]), config, r["batch"],
                           r.get("update_order") or "–", onednn, r.get("conv_gradient") or "?",
                           r.get("precision", "float32"), "yes" if r["xla"] else "no", rate,
                           f"{r['steps']} ({r['warmup']})", r["load_average"]])
    lines += text_tables.markdown(
        ["Model", "Config", "Batch", "Order", "oneDNN", "Conv gradient", "Precision", "XLA",
         "Images/s", "Steps (warm-up)", "Load"], table_rows)
    return "\n".join(lines) + "\n"


def rows(fv) -> list[dict[str, Any]]:
    """Every measurement the flags ask for, as ROW_KEY dicts (conv gradients resolved)."""
    # pylint: disable=import-outside-toplevel
    from acai_tf import fast_conv, model_hparams, models

    onednn = fast_conv.onednn_enabled()
    gradients = list(dict.fromkeys(fast_conv.resolve(path) for path in fv.conv_gradient))
    xlas = [True] if fv.xla_only else [False, True] if fv.xla else [False]
    found = []
    for config_name, name in itertools.product(fv.config, fv.models or list(models.names())):
        takes_order = "update_order" in model_hparams.for_model(name).names()
        orders = fv.update_order if takes_order else [None]
        for batch, order, gradient, precision, xla in itertools.product(
                (int(b) for b in fv.batch), orders, gradients, fv.precision, xlas):
            found.append({"model": name, "config": config_name, "batch": batch, "xla": xla,
                          "precision": precision, "conv_gradient": gradient,
                          "update_order": order, "onednn": onednn})
    return found


def main(argv):
    # pylint: disable=import-outside-toplevel
    from acai_tf import fast_conv, machine, model_hparams, models
    from acai_tf.cli import runner
    from acai_tf.config import PRECISIONS

    fv = flags.FLAGS
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    unknown = [name for name in fv.config if name not in CONFIGS]
    if unknown:
        runner.fail(f"unknown config(s) {', '.join(unknown)}; known: {', '.join(CONFIGS)}")
    unknown = [name for name in fv.models or () if name not in models.names()]
    if unknown:
        runner.fail(f"unknown model(s) {', '.join(unknown)}; known: "
                         f"{', '.join(models.names())}")
    for flag, allowed in (("conv_gradient", fast_conv.GRADIENT_PATHS),
                          ("precision", PRECISIONS),
                          ("update_order", model_hparams.UPDATE_ORDERS)):
        unknown = [value for value in fv[flag].value if value not in allowed]
        if unknown:
            runner.fail(f"unknown --{flag} {', '.join(unknown)}; known: {', '.join(allowed)}")
    description = machine.describe()
    print(f"machine: {machine.one_line(description)}", flush=True)
    stored = []
    if fv.append and fv.json and os.path.exists(fv.json):
        with runner.one_line_errors(ValueError):
            stored = stored_results(fv.json, description)
    results = []
    for row in rows(fv):
        record = timed_result(row, fv.steps, fv.warmup)
        results.append(record)
        rate = record["images_per_second"]
        print(f"{row['model']:10s} {row['config']} batch {row['batch']:4d} "
              f"xla={str(row['xla']):5s} order={row['update_order'] or '-':12s} "
              f"oneDNN={'on' if row['onednn'] else 'off'} grad={row['conv_gradient']:7s} "
              f"{row['precision']:14s} "
              + (f"{rate:8.1f} images/s" if rate is not None else f"failed: {record['error']}"),
              flush=True)
    results = merge(stored, results)
    for path, text in ((fv.json, lambda: json.dumps(
            {"machine": description, "results": results}, indent=2) + "\n"),
                       (fv.markdown, lambda: to_markdown(results, description))):
        if path:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "w") as f:
                f.write(text())


if __name__ == "__main__":
    from acai_tf.cli import runner  # pylint: disable=import-outside-toplevel

    define_flags()
    app.run(main, flags_parser=runner.parse_or_exit)
