"""Loads the official TF1 ACAI code (brain-research/acai) from a user's checkout, unmodified, and
builds and evaluates its lines32 graph: what the official tools (this folder) share.

    models = official_loader.load("/path/to/acai")     # {"acai": ACAI, "baseline": AEBaseline, ...}

Nothing of the official code is copied here and nothing is written into the checkout: its
modules are imported from `reference_dir` with the fixes of `tf1_shims` applied around the
import (TF1 API and layers, Python 2 idioms, its own absl flags). The models are the classes of
`<model>.py` (a `train.AE` subclass whose `model(**params)` builds the graph and returns
`train.AEOps`); `build_graph` builds one inside an explicit `tf.Graph`, which the caller runs in
a `tf.compat.v1.Session` (official_reference.py trains it, official_step_match.py steps it).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import os
import sys
import tempfile
from typing import Any

import numpy as np
import tensorflow as tf
from absl import flags

from acai_tf import datasets
from acai_tf.errors import UserError
from acai_tf.lines import metric
from acai_tf.models import latent_mixing

import tf1_shims  # pylint: disable=wrong-import-order

v1 = tf.compat.v1

# Our model name -> (the official script, its model class).
SCRIPTS = {"baseline": ("baseline", "AEBaseline"), "dropout": ("dropout", "AEDropout"),
           "denoising": ("denoising", "AEDenoising"), "vae": ("vae", "VAE"),
           "aae": ("aae", "AAE"), "vqvae": ("vqvae", "AEVQVAE"), "acai": ("acai", "ACAI")}


class OfficialCodeError(UserError, RuntimeError):
    """The official code cannot be loaded from the folder given; the message is one line."""


def check_checkout(reference_dir: str, model: str) -> None:
    """The path of `<model>.py` in reference_dir.

    Raises:
        OfficialCodeError: reference_dir is not a checkout of the official code.
    """
    if model not in SCRIPTS:
        raise OfficialCodeError(f"unknown model {model!r}; the official code has "
                              f"{', '.join(SCRIPTS)}")
    script = os.path.join(reference_dir, SCRIPTS[model][0] + ".py")
    needed = [os.path.join(reference_dir, "lib", name) for name in ("train.py", "layers.py")]
    missing = [path for path in needed + [script] if not os.path.isfile(path)]
    if missing:
        raise OfficialCodeError(f"{reference_dir} is not a checkout of the official ACAI code "
                              f"(brain-research/acai): {missing[0]} is missing")


def load(reference_dir: str, model: str) -> tuple[type, flags.FlagValues]:
    """The official model class of `model` (e.g. acai -> acai.ACAI), imported from the checkout,
    and the absl flags the official modules defined and read (`lr`, `batch`, ...: fix 9).

    Raises:
        OfficialCodeError: not a checkout, an unknown model, or the import failed.
    """
    reference_dir = os.path.abspath(reference_dir)
    check_checkout(reference_dir, model)
    module_name, class_name = SCRIPTS[model]
    # Modules of an earlier load (another checkout, e.g. in tests) must not be reused.
    for name in [n for n in sys.modules if n in ("data", module_name) or n.split(".")[0] == "lib"]:
        del sys.modules[name]
    official_flags = flags.FlagValues()
    with tf1_shims.import_fixes(reference_dir, official_flags):
        try:
            module = importlib.import_module(module_name)
        except Exception as error:  # pylint: disable=broad-except
            raise OfficialCodeError(f"cannot import {module_name}.py from {reference_dir}: "
                                    f"{type(error).__name__}: {error}") from None
    model_class = getattr(module, class_name, None)
    if not inspect.isclass(model_class) or not hasattr(model_class, "model"):
        raise OfficialCodeError(f"{module_name}.py in {reference_dir} has no model class "
                                f"{class_name}")
    official_flags.mark_as_parsed()  # their defaults; the caller sets lr and batch
    return model_class, official_flags


def commit(reference_dir: str) -> str:
    """The checkout's HEAD commit, read from its .git folder, or "unknown" (not a git checkout)."""
    git = os.path.join(reference_dir, ".git")
    try:
        with open(os.path.join(git, "HEAD"), encoding="utf-8") as f:
            head = f.read().strip()
        if head.startswith("ref: "):
            with open(os.path.join(git, head[5:]), encoding="utf-8") as f:
                head = f.read().strip()
        return head
    except OSError:
        return "unknown"


def official_params(config, model_class) -> dict[str, Any]:
    """The keyword arguments of the official `model()` from our paper config.

    Our hyper-parameter names are the official flags' (acai_tf.model_hparams); `scales` is
    derived as the official scripts do, and a zero `advdepth` means `depth` as there.
    """
    model = config.model
    values = dataclasses.asdict(model.hparams)
    values.update(latent=model.latent, depth=model.depth,
                  scales=int(round(math.log2(model.image_size // model.latent_width))))
    if "advdepth" in values:
        values["advdepth"] = values["advdepth"] or model.depth
    accepted = inspect.signature(model_class.model).parameters
    params = {name: values[name] for name in accepted if name != "self"}
    if "disc_layer_sizes" in params:  # the official flag is a comma-separated string
        params["disc_layer_sizes"] = ",".join(str(size) for size in params["disc_layer_sizes"])
    return params


class _Dataset:
    """What the official `CustomModel` reads of a dataset: its name and image geometry."""

    def __init__(self, info):
        self.name, self.train, self.test, self.train_once = "lines32", None, None, None
        self.height = self.width = info.image_size
        self.colors, self.nclass = info.colors, info.nclass


def build_graph(model_class, params: dict[str, Any], graph_seed: int):
    """The official model's lines32 training graph, as its own training script builds it.

    Args:
        model_class: an official model class (`load`).
        params: the keyword arguments of its `model()` (official_params).
        graph_seed: the graph-level random seed (vqvae.py replaces it with its own, 123).

    Returns:
        (graph, the official `train.AEOps`, the reconstruction MSE tensor: the AE's
        tf.losses.mean_squared_error(x, ae), on noisy or dropped-out codes where the model
        trains on those; the VAE has none: the MSE of its reconstruction then). The graph
        holds the global step the official train op increments; nothing is initialised.
    """
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(graph_seed)
        v1.train.get_or_create_global_step()
        # The official constructor makes its own folders: kept out of the run's.
        with tempfile.TemporaryDirectory() as scratch:
            official = model_class(_Dataset(datasets.get_info("lines32")), scratch, **params)
        with tf1_shims.tf1_graph_building():
            ops = official.model(**params)
        reconstruction = ([loss for loss in graph.get_collection(v1.GraphKeys.LOSSES)
                           if loss.name.startswith("mean_squared_error")]
                          or [tf.reduce_mean(tf.square(ops.x - ops.ae))])[0]
    return graph, ops, reconstruction


def evaluate(session, ops, ends_a: np.ndarray, ends_b: np.ndarray, steps: int = metric.STEPS
             ) -> dict[str, float]:
    """This project's lines metrics of the official model on the pairs ends_a[i] -> ends_b[i]
    ([N, 32, 32, 1] each): `steps` linear interpolants of the official codes, endpoints
    included."""
    def run(tensor, feed, values):
        return np.concatenate([session.run(tensor, {feed: values[i:i + 64]})
                               for i in range(0, len(values), 64)])

    codes_a, codes_b = run(ops.encode, ops.x, ends_a), run(ops.encode, ops.x, ends_b)
    mixed = np.asarray(latent_mixing.interpolate_latents(codes_a, codes_b, steps, False))
    decoded = run(ops.decode, ops.h, mixed.reshape((-1,) + codes_a.shape[1:]))
    return metric.line_metrics(decoded.reshape((len(ends_a), steps) + decoded.shape[1:]))
