"""Training throughput (images/s) of every model's train step, as JSON and a Markdown table.

    python benchmarks/train_throughput.py                       # lines32 config, batch 64
    python benchmarks/train_throughput.py --models=acai --batch=64,256 --xla
    python benchmarks/train_throughput.py --config=mnist32,svhn32 --json=results/throughput.json \
        --markdown=results/throughput.md --append

Runs `fit()` on a fixed in-memory batch (so the data pipeline is not measured), discards the
warm-up (tracing) steps and times the rest from inside the same fit() call (its start-up and
shut-down, seconds long, would otherwise count as training time). Prints one line per
(model, config, batch, xla).
--xla also times each model with compile(jit_compile=True) (--xla_only: only so); a model whose
step XLA cannot compile is recorded with the error instead of a rate. --json and --markdown
write the results with the machine's description; --append first reads the results already in
--json (a measurement of the same model, config, batch and xla is replaced), so that several
runs build one table.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
import time
from typing import Any

from absl import app, flags

# Run as a script, only benchmarks/ is on sys.path; the shared flag parsing lives in flags/.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# (image size, colors, depth, latent, latent_width) of the paper's runs (spec §4.2).
CONFIGS = {"lines32": (32, 1, 16, 16, 2), "mnist32": (32, 1, 16, 16, 4),
           "svhn32": (32, 3, 64, 16, 4)}


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


def machine() -> dict[str, Any]:
    """The machine and software the numbers were measured with."""
    import keras  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "tensorflow": tf.__version__, "keras": keras.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


def describe_machine(description: dict[str, Any]) -> str:
    """One line: CPU, cores, TensorFlow, Keras and Python versions."""
    return (f"{description['cpu']}, {description['cores']} cores "
            f"({description.get('usable_cores', description['cores'])} usable), no GPU; "
            f"TensorFlow {description['tensorflow']}, Keras {description['keras']}, "
            f"Python {description['python']}")


def load_average() -> float | None:
    """The 1-minute load average: how busy the (possibly shared) cores were."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def measure(name: str, config_name: str, batch: int, xla: bool, steps: int,
            warmup: int) -> float:
    """Images per second of `fit()` on one model, after warm-up."""
    # pylint: disable=import-outside-toplevel
    import numpy as np
    import tensorflow as tf

    from acai_tf import models
    from acai_tf.config import ModelConfig

    config = ModelConfig(name=name, **dict(zip(
        ("image_size", "colors", "depth", "latent", "latent_width"),
        model_shape(name, config_name))))
    model = models.build(config, seed=0)
    model.compile(jit_compile=xla)
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
    size, colors, depth, latent, width = CONFIGS[config_name]
    if name == "vqvae" and config_name == "lines32":
        width = 4  # The paper's lines VQ-VAE used a 4x4 latent (spec §4.2).
    return size, colors, depth, latent, width


def timed_result(name: str, config_name: str, batch: int, xla: bool, steps: int,
                 warmup: int) -> dict[str, Any]:
    """One measurement as a JSON record; a failure (e.g. XLA) is recorded, not raised."""
    import keras  # pylint: disable=import-outside-toplevel

    record = {"model": name, "config": config_name, "batch": batch, "xla": xla,
              "steps": steps, "warmup": warmup, "load_average": load_average()}
    try:
        record["images_per_second"] = round(measure(name, config_name, batch, xla, steps,
                                                    warmup), 1)
    except Exception as error:  # pylint: disable=broad-except
        # Any failure of the compiled step (mostly XLA) becomes a table entry, not a crash.
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        record["images_per_second"] = None
        record["error"] = f"{type(error).__name__}: {message}"[:300]
    keras.backend.clear_session()  # Thirty models in one process would otherwise pile up.
    gc.collect()
    return record


def _key(record: dict) -> tuple:
    return record["model"], record["config"], record["batch"], record["xla"]


def merge(old: list[dict], new: list[dict]) -> list[dict]:
    """old with every measurement of new added, replacing the same (model, config, batch, xla)."""
    replaced = {_key(record) for record in new}
    return [record for record in old if _key(record) not in replaced] + list(new)


def to_markdown(results: list[dict], description: dict[str, Any]) -> str:
    """A table model x config x batch x XLA -> images/s, under a header naming the machine."""
    # pylint: disable=import-outside-toplevel
    from acai_tf import models
    from acai_tf.report import DISPLAY_NAMES

    order = list(models.names())
    ordered = sorted(results, key=lambda r: (list(CONFIGS).index(r["config"]), r["batch"],
                                             r["xla"], order.index(r["model"])))
    lines = ["# Training throughput", "",
             f"Machine: {describe_machine(description)}.", "",
             "Images per second of `fit()` on one fixed in-memory batch (the data pipeline is "
             "not measured), timed after the warm-up steps. Load: the 1-minute load average "
             "when the measurement started (the benchmark alone keeps it near 1 to 2; more means "
             "the cores were shared).", "",
             "| Model | Config | Batch | XLA | Images/s | Steps (warm-up) | Load |",
             "|---|---|---|---|---|---|---|"]
    for r in ordered:
        size, colors, depth, latent, width = model_shape(r["model"], r["config"])
        config = f"{r['config']} (depth {depth}, latent {latent}×{width}×{width})"
        rate = (f"{r['images_per_second']:.1f}" if r["images_per_second"] is not None
                else f"failed: {r.get('error', 'unknown error')}".replace("|", "\\|"))
        lines.append(f"| {DISPLAY_NAMES.get(r['model'], r['model'])} | {config} | {r['batch']} "
                     f"| {'yes' if r['xla'] else 'no'} | {rate} | {r['steps']} ({r['warmup']}) "
                     f"| {r['load_average']} |")
    return "\n".join(lines) + "\n"


def _exit_with_error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def main(argv):
    from acai_tf import models  # pylint: disable=import-outside-toplevel

    fv = flags.FLAGS
    if len(argv) > 1:
        _exit_with_error(f"unexpected arguments: {' '.join(argv[1:])}")
    unknown = [name for name in fv.config if name not in CONFIGS]
    if unknown:
        _exit_with_error(f"unknown config(s) {', '.join(unknown)}; known: {', '.join(CONFIGS)}")
    unknown = [name for name in fv.models or () if name not in models.names()]
    if unknown:
        _exit_with_error(f"unknown model(s) {', '.join(unknown)}; known: "
                         f"{', '.join(models.names())}")
    results = []
    for config_name in fv.config:
        for name in fv.models or list(models.names()):
            for batch in (int(b) for b in fv.batch):
                for xla in [True] if fv.xla_only else [False, True] if fv.xla else [False]:
                    record = timed_result(name, config_name, batch, xla, fv.steps, fv.warmup)
                    results.append(record)
                    rate = record["images_per_second"]
                    print(f"{name:10s} {config_name} batch {batch:4d} xla={str(xla):5s} "
                          + (f"{rate:8.1f} images/s" if rate is not None
                             else f"failed: {record['error']}"), flush=True)
    description = machine()
    if fv.append and fv.json and os.path.exists(fv.json):
        with open(fv.json) as f:
            results = merge(json.load(f)["results"], results)
    for path, text in ((fv.json, lambda: json.dumps(
            {"machine": description, "results": results}, indent=2) + "\n"),
                       (fv.markdown, lambda: to_markdown(results, description))):
        if path:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "w") as f:
                f.write(text())


if __name__ == "__main__":
    from flags import flag_defs  # pylint: disable=import-outside-toplevel

    define_flags()
    app.run(main, flags_parser=flag_defs.parse_or_exit)
