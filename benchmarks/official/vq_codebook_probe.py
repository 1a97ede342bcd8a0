"""The state of a VQ-VAE run's codebook: which codes its vectors pick, how far the others are.

    python benchmarks/official/vq_codebook_probe.py --workdir=~/acai_runs/lines/runs/vqvae/seed0
    python benchmarks/official/vq_codebook_probe.py --workdir=~/acai_runs/official/lines/vqvae/seed0

DIR is one of our lines32 VQ-VAE runs (config.json and ckpt/, as `flags.train` writes them) or
one of the official code's (written by official_reference.py, whose config.json says so). The
latest checkpoint is restored and a batch of lines32 images (our stream, --seed) is encoded and
projected to the vectors the quantiser sees ([B * 10, 256] with the paper's flags).
Printed: the step and kimg; how many distinct codes those vectors pick; the median norm of the
vectors, of the codes they pick and of the codes no vector picks; the median squared distance
of a vector to its nearest code and to its second nearest (how settled the assignment is); and
the norm a never-used code has under the EMA rule that both codes follow (zero initial counts,
code sums starting at the uniform +-sqrt(3 / K) codebook, Laplace smoothing epsilon):
    |c| = |c_0| decay^t (n_t + K epsilon) / (epsilon n_t),  n_t = B N (1 - decay^t),
which inflates such a code about 1e5-fold at the first step and then shrinks it by `decay` per
step. Bad input: one line `error: ...`, exit status 1.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from typing import Callable

# Run as a script, only benchmarks/official/ is on sys.path; the library lives at the
# repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
import numpy as np
import tensorflow as tf
from absl import app, flags, logging

from acai_tf import datasets, model_hparams
from acai_tf.models import networks
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.cli import runner
from acai_tf.config import ConfigError


@dataclasses.dataclass(frozen=True)
class CodebookState:
    """What a checkpoint holds of the quantiser, and the vectors of one batch.

    Attributes:
        step: the checkpoint's training step (batch 64: kimg = step / 16).
        batch: the training batch (the EMA's vectors per step are batch * num_latents).
        vectors: [V, D] the projected vectors of the probe batch.
        codebook: [K, D] the codes.
    """

    step: int
    batch: int
    vectors: np.ndarray
    codebook: np.ndarray


def _official_state(workdir: str, record: dict, images: np.ndarray) -> CodebookState:
    """Reads the official run's checkpoint (variables `ae_encoder/*`, `vqvae/dense/*`,
    `means`) and recomputes its vectors: flatten(encoder(x)) @ kernel + bias. `record` is the
    run's config.json."""
    model = record["model"]
    path = tf.train.latest_checkpoint(os.path.join(workdir, "ckpt"))
    if not path:
        raise ConfigError(f"{workdir} holds no checkpoint")
    reader = tf.train.load_checkpoint(path)
    # Our encoder has the official one's layers in the same order (official_step_match pairs
    # them): its weights are loaded from the official variables to run it.
    encoder = networks.make_encoder(32, 1, model["depth"], model["latent"], model["scales"])
    names = sorted((name for name in reader.get_variable_to_shape_map()
                    if name.startswith("ae_encoder/") and "Adam" not in name),
                   key=lambda name: (int(name.split("/")[1].partition("_")[2] or 0),
                                     not name.endswith("kernel")))
    for variable, name in zip(encoder.weights, names):
        variable.assign(reader.get_tensor(name))
    latents = encoder(images).numpy().reshape(len(images), -1)
    vectors = latents @ reader.get_tensor("vqvae/dense/kernel") + reader.get_tensor(
        "vqvae/dense/bias")
    codebook = reader.get_tensor("means")
    dim = codebook.shape[-1]
    return CodebookState(int(reader.get_tensor("global_step")), record["train"]["batch"],
                         vectors.reshape(-1, dim), codebook.reshape(-1, dim))


def _our_state(workdir: str, images: np.ndarray) -> CodebookState:
    """Restores our run's model and projects `images` through its encoder and projection."""
    model, config, _, step = workdir_lib.restore_model(workdir)
    if not hasattr(model, "quantizer"):
        raise ConfigError(f"{workdir} holds a {config.model.name} run, not a VQ-VAE")
    _, vectors, _, _ = model.bottleneck(model.encode(images))
    return CodebookState(step, config.train.batch, vectors.numpy().reshape(
        -1, model.latent_dim), model.quantizer.codebook.numpy())


def never_used_growth(step: int, vectors_per_step: int, num_codes: int, decay: float,
                      epsilon: float) -> float:
    """|c_t| / |c_0| of a code no vector has picked in `step` EMA updates (module docstring)."""
    total = vectors_per_step * (1.0 - decay ** step)
    return decay ** step * (total + num_codes * epsilon) / (epsilon * total)


def never_used_norm(step: int, vectors_per_step: int, num_codes: int, dim: int,
                    decay: float, epsilon: float) -> float:
    """Expected norm of a code no vector has picked by `step`: the codebook starts uniform on
    +-sqrt(3 / K), so E|c_0|^2 = D / K."""
    return math.sqrt(dim / num_codes) * never_used_growth(step, vectors_per_step, num_codes,
                                                          decay, epsilon)


def probe(workdir: str, seed: int = 0, images: int = 256,
          log: Callable[[str], None] = print) -> dict[str, float]:
    """Probes the latest checkpoint of `workdir`; returns what it prints, by name."""
    workdir = os.path.expanduser(workdir)
    config_path = os.path.join(workdir, "config.json")
    if not os.path.isfile(config_path):
        raise ConfigError(f"{workdir} is not a run folder: no config.json")
    with open(config_path, encoding="utf-8") as f:
        record = json.load(f)
    official = (record.get("identity") or {}).get("source") == "official"
    batch = next(datasets.train_stream("lines32", batch_size=images,
                                       seed=seed).as_numpy_iterator())["image"]
    state = (_official_state(workdir, record, batch) if official
             else _our_state(workdir, batch))
    vectors, codebook = state.vectors.astype(np.float64), state.codebook.astype(np.float64)
    distances = ((vectors ** 2).sum(1)[:, None] - 2 * vectors @ codebook.T
                 + (codebook ** 2).sum(1)[None])
    nearest = np.sort(np.partition(distances, 1, axis=1)[:, :2], axis=1)
    picked = np.unique(distances.argmin(1))
    norms = np.linalg.norm(codebook, axis=1)
    unused = np.setdiff1d(np.arange(len(codebook)), picked)
    hparams = model_hparams.VQVAEHParams()
    per_step = state.batch * len(vectors) // images
    result = {
        "step": state.step, "kimg": state.step * state.batch / 1024,
        "codes_picked": len(picked), "vector_norm": float(np.median(np.linalg.norm(vectors,
                                                                                    axis=1))),
        "picked_code_norm": float(np.median(norms[picked])),
        "unused_code_norm": float(np.median(norms[unused])),
        "never_used_norm_by_rule": never_used_norm(
            state.step, per_step, len(codebook), codebook.shape[1], hparams.decay,
            hparams.epsilon),
        "nearest_sq_distance": float(np.median(nearest[:, 0])),
        "second_sq_distance": float(np.median(nearest[:, 1]))}
    log(f"{'official' if official else 'our'} VQ-VAE at step {state.step} "
        f"({result['kimg']:g} kimg): {len(vectors)} vectors of {images} images pick "
        f"{len(picked)} of {len(codebook)} codes")
    log(f"  median norms: vectors {result['vector_norm']:.3g}, their codes "
        f"{result['picked_code_norm']:.3g}, the other codes {result['unused_code_norm']:.3g} "
        f"(a never-used code by the EMA rule: {result['never_used_norm_by_rule']:.3g})")
    log(f"  median squared distance of a vector to its nearest code "
        f"{result['nearest_sq_distance']:.3g}, to its second nearest "
        f"{result['second_sq_distance']:.3g}")
    return result


def define_flags() -> None:
    flags.DEFINE_string("workdir", None, "A VQ-VAE run folder (ours or the official code's).")
    flags.DEFINE_integer("seed", 0, "Seed of the probe batch.")
    flags.DEFINE_integer("images", 256, "Images in the probe batch.", lower_bound=1)
    flags.mark_flag_as_required("workdir")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    logging.set_verbosity(logging.ERROR)
    with runner.one_line_errors():
        probe(flags.FLAGS.workdir, flags.FLAGS.seed, flags.FLAGS.images)


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=runner.parse_or_exit)
