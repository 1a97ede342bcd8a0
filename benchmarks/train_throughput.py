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
before timing anything, a --json measured on another (`throughput_results.SAME_MACHINE_FIELDS`
differ), so that no row is filed under a CPU it did not run on.

How far a step is from the machine's limit: every row also gives its FLOPs per training image
(`acai_tf.performance.flops`) and the GFLOP/s achieved, and each run first times an n x n matrix
product (--matmul_size, float32 and bfloat16) in this process, on the cores and threads the steps
use, and files that reference with every row it measures. The measuring lives in
`acai_tf.performance.throughput`, the file and its table in
`acai_tf.performance.throughput_results`.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from typing import Any

from absl import app, flags

# Run as a script, only benchmarks/ is on sys.path; the shared flag parsing lives in flags/.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from acai_tf.quiet_start import quiet_tensorflow  # noqa: E402
from acai_tf.performance.throughput import CONFIGS  # noqa: E402  (imports no TensorFlow)

quiet_tensorflow()  # before TensorFlow is imported: oneDNN on unless TF_ENABLE_ONEDNN_OPTS says


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
    flags.DEFINE_integer("matmul_size", 2048, "Size n of the n x n matrix product timed in "
                         "float32 and bfloat16 as the cores' reference GFLOP/s (0: none).",
                         lower_bound=0)


def rows(fv) -> list[dict[str, Any]]:
    """Every measurement the flags ask for, as ROW_KEY dicts (conv gradients resolved)."""
    # pylint: disable=import-outside-toplevel
    from acai_tf import model_hparams, models
    from acai_tf.speed import fast_conv

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
    from acai_tf import model_hparams, models
    from acai_tf.performance import throughput
    from acai_tf.speed import fast_conv
    from acai_tf.training import machine
    from acai_tf.cli import runner
    from acai_tf.performance.throughput_results import merge, stored_results, to_markdown
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
    matmul = None
    if fv.matmul_size:
        matmul = throughput.matmul_reference(fv.matmul_size)
        print(f"matmul {fv.matmul_size}x{fv.matmul_size}: " + ", ".join(
            f"{dtype} {matmul[f'{dtype}_gflop_per_second']:.1f} GFLOP/s"
            for dtype in throughput.MATMUL_DTYPES), flush=True)
    results = []
    for row in rows(fv):
        record = throughput.timed_result(row, fv.steps, fv.warmup, matmul)
        results.append(record)
        rate = record["images_per_second"]
        print(f"{row['model']:10s} {row['config']} batch {row['batch']:4d} "
              f"xla={str(row['xla']):5s} order={row['update_order'] or '-':12s} "
              f"oneDNN={'on' if row['onednn'] else 'off'} grad={row['conv_gradient']:7s} "
              f"{row['precision']:14s} "
              + (f"{rate:8.1f} images/s {record['gflop_per_second']:7.1f} GFLOP/s"
                 if rate is not None else f"failed: {record['error']}"),
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
