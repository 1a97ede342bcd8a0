"""Training throughput (images/s) of every model's train step.

    python benchmarks/train_throughput.py                       # lines config, batch 64
    python benchmarks/train_throughput.py --models=acai --batch=64,256 --xla
    python benchmarks/train_throughput.py --config=mnist32 --json=out.json

Runs `fit()` on a fixed in-memory batch (so the data pipeline is not measured), discards the
warm-up (tracing) steps and times the rest. Prints one line per (model, batch, xla) and writes
JSON with the machine's description when --json is given.
"""

from __future__ import annotations

import json
import os
import platform
import time

from absl import app, flags

flags.DEFINE_list("models", None, "Models to time (default: all registered).")
flags.DEFINE_list("batch", ["64"], "Global batch sizes.")
flags.DEFINE_enum("config", "lines32", ["lines32", "mnist32", "svhn32"], "Paper configuration.")
flags.DEFINE_bool("xla", False, "Also time with jit_compile=True.")
flags.DEFINE_integer("steps", 30, "Timed steps per measurement.")
flags.DEFINE_integer("warmup", 5, "Untimed steps first (tracing, allocator warm-up).")
flags.DEFINE_string("json", None, "Write the results here as JSON.")
FLAGS = flags.FLAGS

# (image size, colors, depth, latent, latent_width) of the paper's runs (spec §4.2).
CONFIGS = {"lines32": (32, 1, 16, 16, 2), "mnist32": (32, 1, 16, 16, 4),
           "svhn32": (32, 3, 64, 16, 4)}


def measure(name: str, batch: int, xla: bool) -> float:
    """Images per second of `fit()` on one model, after warm-up."""
    import numpy as np
    import tensorflow as tf

    from acai_tf import models
    from acai_tf.config import ModelConfig

    size, colors, depth, latent, width = CONFIGS[FLAGS.config]
    if name == "vqvae" and FLAGS.config == "lines32":
        width = 4  # The paper's lines VQ-VAE used a 4x4 latent (spec §4.2).
    config = ModelConfig(name=name, image_size=size, colors=colors, depth=depth, latent=latent,
                         latent_width=width)
    model = models.build(config, seed=0)
    model.compile(jit_compile=xla)
    rng = np.random.default_rng(0)
    data = {"image": rng.uniform(-1, 1, (batch, size, size, colors)).astype("float32"),
            "label": rng.integers(0, 10, batch)}
    dataset = tf.data.Dataset.from_tensors(data).repeat()
    model.fit(dataset, steps_per_epoch=FLAGS.warmup, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=FLAGS.steps, epochs=1, verbose=0)
    return FLAGS.steps * batch / (time.perf_counter() - start)


def main(argv):
    del argv
    from acai_tf import models

    names = FLAGS.models or list(models.names())
    results = []
    for name in names:
        for batch in (int(b) for b in FLAGS.batch):
            for xla in ([False, True] if FLAGS.xla else [False]):
                rate = measure(name, batch, xla)
                results.append({"model": name, "config": FLAGS.config, "batch": batch,
                                "xla": xla, "images_per_second": round(rate, 1)})
                print(f"{name:10s} {FLAGS.config} batch {batch:4d} xla={str(xla):5s} "
                      f"{rate:8.1f} images/s", flush=True)
    if FLAGS.json:
        machine = {"processor": platform.processor() or platform.machine(),
                   "cpus": os.cpu_count(), "python": platform.python_version()}
        with open(FLAGS.json, "w") as f:
            json.dump({"machine": machine, "results": results}, f, indent=2)


if __name__ == "__main__":
    app.run(main)
