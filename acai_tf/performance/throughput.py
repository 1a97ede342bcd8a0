"""Measuring training throughput: images/s of a model's `fit()` step, its FLOPs, and the cores'
matrix-multiply speed as the reference for what the step achieves.

A measurement is described by a row (see `acai_tf.performance.throughput_results.ROW_KEY`): model,
paper configuration, batch, XLA, precision, conv gradient path, update order, oneDNN state.
`timed_result` turns a row into a JSON record with its images/s, FLOPs per image
(`acai_tf.performance.flops`, layers as the step runs them) and GFLOP/s achieved. `matmul_reference`
times a large square matrix product in float32 and bfloat16 in this process, so on the cores and
intra-op threads the training steps use, as the attainable GFLOP/s to compare against.
TensorFlow is imported only when something is measured or counted.
"""

from __future__ import annotations

import functools
import gc
import os
import time
from typing import Any

# The paper's runs timed (acai_tf.reproduction.paper_runs): those of these datasets with 16 latent
# channels.
CONFIGS = ("lines32", "mnist32", "svhn32")
CONFIG_LATENT = 16
MATMUL_DTYPES = ("float32", "bfloat16")


def model_shape(name: str, config_name: str) -> tuple[int, int, int, int, int]:
    """(image size, colors, depth, latent, latent_width) of a model in a paper configuration."""
    from acai_tf import datasets  # pylint: disable=import-outside-toplevel
    from acai_tf.reproduction import paper_runs

    run = paper_runs.find(config_name, name, CONFIG_LATENT)
    info = datasets.get_info(run.dataset)
    return info.image_size, info.colors, run.depth, run.latent, run.latent_width


def load_average() -> float | None:
    """The 1-minute load average: how busy the (possibly shared) cores were."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def build(row: dict[str, Any]):
    """The model a row describes (with the row's conv gradient path and precision)."""
    # pylint: disable=import-outside-toplevel
    from acai_tf import models
    from acai_tf.speed import fast_conv
    from acai_tf.config import ModelConfig

    hparams = {"update_order": row["update_order"]} if row.get("update_order") else {}
    config = ModelConfig(name=row["model"], hparams=hparams, **dict(zip(
        ("image_size", "colors", "depth", "latent", "latent_width"),
        model_shape(row["model"], row["config"]))))
    with fast_conv.creating(row.get("conv_gradient") or "stock"):
        return models.build(config, seed=0, precision=row.get("precision", "float32"))


@functools.lru_cache(maxsize=None)
def _flop_per_image(model: str, config: str, update_order: str | None) -> int:
    from acai_tf.performance import flops  # pylint: disable=import-outside-toplevel

    return flops.train_step_flops(build({"model": model, "config": config,
                                         "update_order": update_order}))


def flop_per_image(row: dict[str, Any]) -> int:
    """FLOPs per training image of a row's train step (precision and gradient path aside)."""
    return _flop_per_image(row["model"], row["config"], row.get("update_order"))


def step_clock(warmup: int):
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


def measure(row: dict[str, Any], steps: int, warmup: int) -> float:
    """Images per second of `fit()` on the model a row describes, after warm-up."""
    # pylint: disable=import-outside-toplevel
    import numpy as np
    import tensorflow as tf

    model, batch = build(row), row["batch"]
    model.compile(jit_compile=row["xla"])
    rng = np.random.default_rng(0)
    size, colors = model.model_config.image_size, model.model_config.colors
    data = {"image": rng.uniform(-1, 1, (batch, size, size, colors)).astype("float32"),
            "label": rng.integers(0, 10, batch)}
    dataset = tf.data.Dataset.from_tensors(data).repeat()
    clock = step_clock(warmup)
    model.fit(dataset, steps_per_epoch=warmup + steps, epochs=1, verbose=0, callbacks=[clock])
    return steps * batch / clock.elapsed


def matmul_gflops(size: int, dtype: str, warmup: int = 2, min_seconds: float = 1.0,
                  min_repeats: int = 3) -> float:
    """GFLOP/s (2 size^3 FLOPs a product) of [size, size] @ [size, size] in `dtype`, timed after
    `warmup` products over at least `min_repeats` products and `min_seconds`."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    a, b = (tf.cast(tf.random.stateless_uniform((size, size), (seed, 0), -1, 1), dtype)
            for seed in (1, 2))
    for _ in range(warmup):
        tf.linalg.matmul(a, b)[0, 0].numpy()
    repeats, start = 0, time.perf_counter()
    while repeats < min_repeats or time.perf_counter() - start < min_seconds:
        # Reading one element waits for the product (eager CPU ops are synchronous anyway).
        tf.linalg.matmul(a, b)[0, 0].numpy()
        repeats += 1
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def matmul_reference(size: int) -> dict[str, Any]:
    """{"size": size, "<dtype>_gflop_per_second": GFLOP/s} for each of MATMUL_DTYPES."""
    return {"size": size, **{f"{dtype}_gflop_per_second": round(matmul_gflops(size, dtype), 1)
                             for dtype in MATMUL_DTYPES}}


def timed_result(row: dict[str, Any], steps: int, warmup: int,
                 matmul: dict[str, Any] | None = None) -> dict[str, Any]:
    """One measurement of `row` as a JSON record, with its FLOPs per image, the GFLOP/s it
    achieved and this run's `matmul` reference (if any); a failure (e.g. XLA) is recorded, not
    raised."""
    import keras  # pylint: disable=import-outside-toplevel

    record = {**row, "steps": steps, "warmup": warmup, "load_average": load_average(),
              "flop_per_image": flop_per_image(row)}
    try:
        record["images_per_second"] = round(measure(row, steps, warmup), 1)
        record["gflop_per_second"] = round(
            record["images_per_second"] * record["flop_per_image"] / 1e9, 1)
    except Exception as error:  # pylint: disable=broad-except
        # Any failure of the compiled step (mostly XLA) becomes a table entry, not a crash.
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        record["images_per_second"] = None
        record["error"] = f"{type(error).__name__}: {message}"[:300]
    if matmul:
        record["matmul"] = matmul
    keras.backend.clear_session()  # Thirty models in one process would otherwise pile up.
    gc.collect()
    return record
