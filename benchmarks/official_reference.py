"""The official TF1 code of the paper, trained on lines32 and logged as this project's runs are.

    python benchmarks/official_reference.py --reference_dir=/tmp/acai_ref --model=acai \
        --workdir=$HOME/acai_runs/official/lines/runs/acai/seed0 --train_kimg=448 \
        --report_kimg=16 --seed=0

--reference_dir is a checkout of github.com/brain-research/acai (TensorFlow 1, 2018). None of its
code is in this repository and nothing is written into the checkout: its lib/ and <model>.py are
imported at run time with the load-time fixes of `reference_imports`, its model's
`model(**params)` builds the graph (train.AEOps: x, h, label, encode, decode, ae, train_op,
classify_latent) and this script runs `train_op` in a tf.compat.v1.Session on this project's
lines32 training stream (acai_tf.lines.dataset: the reference's renderer and uniform angles),
fetching the reference's logged tensors with it as its own training loop did. Networks, learning
rate, batch (64) and hyperparameters are those of flags/runs/lines32_<model>.flags
(acai_tf.paper_runs); --train_kimg, --report_kimg, --depth and --latent override them.

Every --report_kimg one line goes into WORKDIR/metrics.jsonl (acai_tf.metrics_log): the logged
tensors' means over the period under this project's keys where they mean the same
(losses/reconstruction: the training batches' MSE, losses/classifier, ...) and all of them as
official/<name>; monitors/images_per_second (training time only) and monitors/kimg; and this
project's report evaluations on the pairs `TrainingEvaluations` draws for --seed: 256 test lines
x 16 steps interpolated between the official encoder's codes and decoded by its decoder, scored by
acai_tf.lines.metric (eval/mean_distance, eval/mean_smoothness, eval/long_way_fraction), the
in-training classifier's accuracy on the 5000 test lines (eval/latent_accuracy), and the test
reconstruction MSE of the 512 end points (eval/reconstruction_mse). Then a Saver checkpoint
(WORKDIR/ckpt/model.ckpt-<step>). Rerunning the command resumes from it (no step is logged twice;
a larger --train_kimg continues a finished run); WORKDIR/config.json holds the reference commit,
model, parameters, paper config and seed, and one record per start (machine, commits) under
"runs", as benchmarks/long_runs.py reads it. The default WORKDIR is
~/acai_runs/official/lines/runs/<model>/seed<k>, saved by long_runs.py as
official_lines_<model>_seed<k>. Bad input: one line `error: ...`, exit status 1, nothing written.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import types
from typing import Any, Callable, Iterator

# Run as a script, only benchmarks/ is on sys.path; the library lives at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
import absl
import numpy as np
import tensorflow as tf
from absl import app, flags, logging

from acai_tf import atomic_write, datasets, latent_mixing, machine, metrics_log, model_hparams
from acai_tf import train_lib, workdir as workdir_lib
from acai_tf.cli import runner
from acai_tf.errors import UserError
from acai_tf.evaluation import protocols
from acai_tf.evaluation.training_eval import EvalSettings

import long_runs  # pylint: disable=wrong-import-order
import reproduction  # pylint: disable=wrong-import-order

v1 = tf.compat.v1
# The reference's logged tensors (utils.HookReport names) that equal one of this project's keys.
OUR_KEYS = {"loss": "losses/reconstruction", "loss_ae": "losses/reconstruction",
            "classify_latent": "losses/classifier", "loss_disc": "losses/critic_alpha",
            "loss_disc_real": "losses/critic_real", "loss_ae_disc": "losses/ae_adversarial",
            "loss_ae_latent": "losses/ae_adversarial", "loss_kl": "losses/kl",
            "loss_ll": "losses/log_likelihood", "elbo": "losses/elbo",
            "adversary_accuracy": "monitors/adversary_accuracy"}
PENDING = "pending_report.json"  # a report whose checkpoint may be saved before its line is


class OfficialError(UserError, RuntimeError):
    """The official code cannot be run as asked; the message is one line."""


# TF1's tf.layers, which tf.compat.v1 serves only through Keras 2: the same variables
# (<scope>/conv2d[_k]/{kernel,bias}, unnamed layers numbered anew at every entry of a scope, so
# that a scope re-entered with reuse shares them), Glorot-uniform kernels and zero biases unless
# given, activation last.
def _conv2d(inputs, filters, kernel_size, strides=1, padding="valid", activation=None,
            use_bias=True, kernel_initializer=None, name=None):
    with v1.variable_scope(name, default_name="conv2d"):
        size = [kernel_size] * 2 if isinstance(kernel_size, int) else list(kernel_size)
        kernel = v1.get_variable("kernel", size + [inputs.shape[-1], filters],
                                 initializer=kernel_initializer)
        outputs = tf.nn.conv2d(inputs, kernel, strides, padding.upper())
        if use_bias:
            outputs = tf.nn.bias_add(outputs, v1.get_variable(
                "bias", [filters], initializer=v1.zeros_initializer()))
        return activation(outputs) if activation else outputs


def _dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None, name=None):
    with v1.variable_scope(name, default_name="dense"):
        kernel = v1.get_variable("kernel", [inputs.shape[-1], units],
                                 initializer=kernel_initializer)
        outputs = tf.tensordot(inputs, kernel, [[inputs.shape.rank - 1], [0]])
        if use_bias:
            outputs = tf.nn.bias_add(outputs, v1.get_variable(
                "bias", [units], initializer=v1.zeros_initializer()))
        return activation(outputs) if activation else outputs


def _flatten(inputs, name=None):
    del name
    return tf.reshape(inputs, [-1, int(np.prod(inputs.shape[1:]))])


def _module(name: str, base: Any, **attributes: Any) -> types.ModuleType:
    """A module that is `base` (looked up lazily) with `attributes` in front."""
    module = types.ModuleType(name)
    module.__getattr__ = functools.partial(getattr, base)
    module.__dict__.update(attributes)
    return module


@contextlib.contextmanager
def reference_imports(reference_dir: str, flag_values: flags.FlagValues) -> Iterator[dict]:
    """Imports from reference_dir made to work on TensorFlow 2 and Python 3, all undone on exit.

    Yields a dict that receives, on exit, {name: module} of the reference modules imported,
    which leave sys.modules (a second checkout may be loaded later in the same process).
    """
    saved = (dict(sys.modules), absl.flags, list(sys.path), sys.dont_write_bytecode,
             os.environ.get("AE_DATA"))
    for name in [n for n in sys.modules if n.split(".")[0] in ("lib", "data", *reproduction.MODELS)]:
        del sys.modules[name]  # a module of the same name must not stand in for the reference's
    # 1. `import tensorflow as tf` written for TF1: tf.compat.v1, with TF1's tf.layers (above).
    sys.modules["tensorflow"] = _module("tensorflow", v1, layers=types.SimpleNamespace(
        conv2d=_conv2d, dense=_dense, flatten=_flatten))
    # 2. Its absl flags (lr, batch, dataset, depth, ...) go to their own FlagValues, set from the
    #    paper config: they neither clash with this script's nor need a command line.
    absl.flags = sys.modules["absl.flags"] = _module("absl.flags", flags, FLAGS=flag_values, **{
        name: functools.partial(getattr(flags, name), flag_values=flag_values)
        for name in dir(flags) if name.startswith("DEFINE")})
    # 3. lib/utils.py's Python 2 implicit relative `import data` finds lib/data.py.
    sys.path[:0] = [reference_dir, os.path.join(reference_dir, "lib")]
    # 4. lib/data.py reads $AE_DATA at import (the TFRecord datasets' folder; lines32 has none).
    os.environ.setdefault("AE_DATA", os.devnull)
    # 5. No __pycache__ written into the checkout.
    sys.dont_write_bytecode = True
    loaded: dict[str, types.ModuleType] = {}
    try:
        yield loaded
    finally:
        loaded.update({name: module for name, module in sys.modules.items() if os.path.abspath(
            getattr(module, "__file__", None) or "/").startswith(reference_dir + os.sep)})
        for module in loaded.values():
            # 6. Python 2's xrange (lib/discretization.py calls it while building the graph).
            module.__dict__.setdefault("xrange", range)
        sys.modules.clear()
        sys.modules.update(saved[0])
        absl.flags, sys.path[:], sys.dont_write_bytecode = saved[1:4]
        if saved[4] is None:
            del os.environ["AE_DATA"]


def reference_commit(reference_dir: str) -> str:
    """`git rev-parse HEAD` of the checkout, or "unknown" when it is not a git checkout."""
    try:
        result = subprocess.run(["git", "-c", f"safe.directory={reference_dir}", "-C",
                                 reference_dir, "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    inside = os.path.dirname(os.path.abspath(os.path.join(reference_dir, ".git")))
    return result.stdout.strip() if result.returncode == 0 and os.path.isdir(
        os.path.join(inside, ".git")) else "unknown"


def load_model_class(reference_dir: str, model: str) -> tuple[type, dict[str, str],
                                                                flags.FlagValues]:
    """(the model class of <model>.py, {logged tensor: name} of its utils.HookReport, the
    reference's flags), imported with the fixes of `reference_imports`."""
    missing = [path for path in ("lib/train.py", "lib/layers.py", f"{model}.py")
               if not os.path.isfile(os.path.join(reference_dir, path))]
    if missing:
        raise OfficialError(f"{reference_dir} is not a checkout of the official ACAI code "
                            f"(github.com/brain-research/acai): it has no {missing[0]}")
    flag_values = flags.FlagValues()
    with reference_imports(reference_dir, flag_values) as loaded:
        try:
            module = __import__(model)
        except Exception as error:  # pylint: disable=broad-except
            raise OfficialError(f"cannot import {model}.py from {reference_dir}: "
                                f"{type(error).__name__}: {error}") from None
    classes = [value for value in vars(module).values() if inspect.isclass(value)
               and value.__module__ == model and callable(getattr(value, "model", None))]
    if len(classes) != 1:
        raise OfficialError(f"{model}.py in {reference_dir} defines {len(classes)} model "
                            "classes (a class with a model() method); expected one")
    report = getattr(loaded.get("lib.utils"), "HookReport", None)
    flag_values.mark_as_parsed()
    return classes[0], dict(getattr(report, "_TENSOR_NAMES", {})), flag_values


def model_params(model_class: type, config) -> dict[str, Any]:
    """The keyword arguments of model_class.model() from the paper config, as the reference's
    main() computes them (scales from the latent width, advdepth 0 meaning depth)."""
    m = config.model
    known = {"latent": m.latent, "depth": m.depth,
             "scales": int(round(math.log2(m.image_size // m.latent_width))),
             **model_hparams.resolve(m.name, m.hparams).to_dict()}
    if known.get("advdepth") == 0:
        known["advdepth"] = m.depth
    names = [name for name in inspect.signature(model_class.model).parameters if name != "self"]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise OfficialError(f"the official {m.name}.py's model() takes {unknown[0]}, which "
                            f"flags/runs/lines32_{m.name}.flags does not give")
    return {name: ",".join(map(str, known[name])) if isinstance(known[name], (list, tuple))
            else known[name] for name in names}


def expected_record(reference_dir: str, config, params: dict[str, Any],
                    model_class: type) -> dict[str, Any]:
    """config.json without its "runs": what identifies the run (and its length)."""
    return {**json.loads(config.to_json()), "official": {
        "reference_dir": reference_dir, "reference_commit": reference_commit(reference_dir),
        "model_class": model_class.__name__, "params": params,
        "flags": {"lr": config.model.lr, "batch": config.train.batch, "dataset": "lines32"},
        "update_order": "simultaneous (the reference's train_op groups every optimizer)"}}


def check_workdir(workdir: str, expected: dict[str, Any]) -> int:
    """The number of reports already in workdir; OfficialError unless it is new or holds this
    run (same identity; the length, cadence and checkout path may change)."""
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise OfficialError(f"workdir {workdir} exists and is not a directory")
    reports = metrics_log.read(workdir)
    path = os.path.join(workdir, "config.json")
    if not os.path.isfile(path):
        if reports or os.path.exists(os.path.join(workdir, "ckpt")):
            raise OfficialError(f"workdir {workdir} holds a run but no config.json; use another")
        return 0
    with open(path, encoding="utf-8") as f:
        saved = json.load(f)
    if "official" not in saved:
        raise OfficialError(f"workdir {workdir} holds a run of this project's code, not of the "
                            "official code; use another --workdir")
    ignore = {"runs", "train.train_kimg", "train.report_kimg", "official.reference_dir"}
    differences = [text for name, text in workdir_lib.config_differences(saved, expected)
                   if name not in ignore and name.split(".")[0] not in ignore]
    if differences:
        raise OfficialError(f"workdir {workdir} holds another run ({'; '.join(differences)}); "
                            "use another --workdir or the same flags to resume")
    return len(reports)
