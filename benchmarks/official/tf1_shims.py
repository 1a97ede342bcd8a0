"""The fixes that let the official TF1 ACAI code (brain-research/acai) run unmodified here; the
official tools use them through `official_loader`.

The official code (2018) targets TensorFlow 1 and Python 2 idioms. Nothing of it is copied here
and nothing is written into the checkout: its modules are imported from `reference_dir` with a
handful of fixes applied around the import, each for one reason:

1. `import tensorflow as tf` gets `tf.compat.v1`, the TF1 API, while the import runs (the rest
   of the process keeps TensorFlow 2);
2. `tf.layers.conv2d/dense/flatten` exist in `tf.compat.v1` only through Keras 2, absent beside
   Keras 3: they are given as TF1 layers are, variables `<scope>/<layer>/{kernel,bias}` from
   `get_variable` (Glorot-uniform kernels and zero biases unless an initializer is passed),
   layer names made unique per variable scope entry, so that re-entering a scope with reuse
   shares the weights as TF1 layers did;
3. `lib/data.py` reads `$AE_DATA` at import (its TFRecord datasets; lines32 needs none): set to
   an empty temporary folder when unset;
4. `lib/utils.py` imports `data` as a top-level module (Python 2 implicit relative import):
   `lib/` is put on sys.path during the import;
5. `lib/discretization.py` (VQ-VAE) uses Python 2's `xrange` when building the graph: every
   official module gets `xrange = range` in its namespace;
6. `lib/utils.py` holds one expression Python 3 cannot compile (`dict(True=True, ...)`): the
   official modules are compiled from their source with that expression rewritten in memory
   (SOURCE_FIXES), which also keeps Python from writing bytecode caches into the checkout.

Two more apply while a model builds its graph (`tf1_graph_building`), both TF1's defaults then:

7. variables are reference variables (`use_resource=False`): the VQ-VAE initialises its EMA
   codebook with `means.initialized_value()`, which resource variables do not implement;
8. `tf.cond` builds TF1's Switch/Merge control flow: `initialized_value()` is a cond that must
   not read the variable before it is initialised, which the functional (v2) cond does.

And one for the process: 9. the official modules define absl flags at import (`lib/train.py`:
`lr`, `batch`, ...) and read them when building graphs; they get a FlagValues of their own
(`absl.flags` seen by their import is one whose FLAGS and DEFINE_* use it), so that they never
collide with the process's flags, e.g. this project's own `--lr`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
import types
from typing import Iterator

import tensorflow as tf
from absl import flags

v1 = tf.compat.v1

# Fix 6: {file below the checkout: ((Python 2 text, its Python 3 equivalent), ...)}.
SOURCE_FIXES = {
    os.path.join("lib", "utils.py"): (("dict(True=True, False=False)[value]",
                                       "{'True': True, 'False': False}[value]"),),
}


def _layer_scope(name: str | None, kind: str):
    # A named layer reuses its scope; an unnamed one takes kind, kind_1, ... within the current
    # scope entry, the counts starting over at every entry (TF1's layer naming).
    return v1.variable_scope(name, default_name=kind)


def conv2d(inputs, filters, kernel_size, strides=1, padding="valid", activation=None,
           use_bias=True, kernel_initializer=None, name=None):
    """TF1's tf.layers.conv2d for NHWC inputs [B, H, W, C_in] -> [B, H', W', filters]."""
    with _layer_scope(name, "conv2d"):
        kernel = v1.get_variable("kernel", [kernel_size, kernel_size, inputs.shape[-1], filters],
                                 initializer=kernel_initializer)
        outputs = tf.nn.conv2d(inputs, kernel, strides, padding.upper())
        if use_bias:
            outputs += v1.get_variable("bias", [filters], initializer=v1.zeros_initializer())
        return activation(outputs) if activation else outputs


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None, name=None):
    """TF1's tf.layers.dense on the last axis: [..., D] -> [..., units]."""
    with _layer_scope(name, "dense"):
        kernel = v1.get_variable("kernel", [inputs.shape[-1], units],
                                 initializer=kernel_initializer)
        outputs = tf.tensordot(inputs, kernel, [[inputs.shape.rank - 1], [0]])
        if use_bias:
            outputs += v1.get_variable("bias", [units], initializer=v1.zeros_initializer())
        return activation(outputs) if activation else outputs


def flatten(inputs, name=None):
    """TF1's tf.layers.flatten: [B, ...] -> [B, prod(...)]."""
    del name
    return tf.reshape(inputs, [tf.shape(inputs)[0], int(inputs.shape[1:].num_elements())])


def tf1_module() -> types.ModuleType:
    """A `tensorflow` module for the official code: tf.compat.v1 plus the TF1 layers (fix 1, 2)."""
    module = types.ModuleType("tensorflow")
    module.__getattr__ = lambda name: getattr(v1, name)  # looked up lazily, as TF's own API
    module.layers = types.SimpleNamespace(conv2d=conv2d, dense=dense, flatten=flatten)
    return module


@contextlib.contextmanager
def tf1_graph_building() -> Iterator[None]:
    """Fixes 7 and 8 around an official `model()` call inside a tf.Graph."""
    v2_control_flow = tf.compat.v1.control_flow_v2_enabled()
    v1.disable_control_flow_v2()
    try:
        with v1.variable_scope(v1.get_variable_scope(), use_resource=False):
            yield
    finally:
        if v2_control_flow:
            v1.enable_control_flow_v2()


class _FixingLoader(importlib.machinery.SourceFileLoader):
    """Compiles an official module from its source with SOURCE_FIXES applied (fix 6)."""

    def __init__(self, fullname: str, path: str, fixes: tuple[tuple[str, str], ...]):
        super().__init__(fullname, path)
        self.fixes = fixes

    def exec_module(self, module):
        module.xrange = range  # fix 5
        super().exec_module(module)

    def get_code(self, fullname):
        source = self.get_data(self.path).decode("utf-8")
        for old, new in self.fixes:
            source = source.replace(old, new)
        return compile(source, self.path, "exec", dont_inherit=True)


class _CheckoutFinder(importlib.abc.MetaPathFinder):
    """Finds modules as usual, but loads those of the checkout through _FixingLoader."""

    def __init__(self, reference_dir: str):
        self.reference_dir = reference_dir + os.sep

    def find_spec(self, fullname, path, target=None):
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        origin = spec.origin if spec else None
        if not origin or not origin.startswith(self.reference_dir) or not origin.endswith(".py"):
            return None
        relative = os.path.relpath(origin, self.reference_dir)
        spec.loader = _FixingLoader(fullname, origin, SOURCE_FIXES.get(relative, ()))
        return spec


def _absl_flags_module(official_flags: flags.FlagValues) -> types.ModuleType:
    """`absl.flags` whose FLAGS and DEFINE_* are official_flags' (fix 9)."""
    module = types.ModuleType("absl.flags")
    module.__getattr__ = lambda name: getattr(flags, name)
    module.FLAGS = official_flags
    for name in dir(flags):
        if name.startswith("DEFINE"):
            setattr(module, name, functools.partial(getattr(flags, name),
                                                    flag_values=official_flags))
    return module


@contextlib.contextmanager
def import_fixes(reference_dir: str, official_flags: flags.FlagValues) -> Iterator[None]:
    """Fixes 1, 3 to 6 and 9 for the duration of the official modules' import."""
    real_tf = sys.modules["tensorflow"]
    real_flags = sys.modules["absl.flags"]
    absl_package = sys.modules["absl"]
    sys.modules["absl.flags"] = absl_package.flags = _absl_flags_module(official_flags)
    saved_path = list(sys.path)
    finder = _CheckoutFinder(reference_dir)
    sys.meta_path.insert(0, finder)
    sys.modules["tensorflow"] = tf1_module()
    sys.path[:0] = [reference_dir, os.path.join(reference_dir, "lib")]
    os.environ.setdefault("AE_DATA", tempfile.mkdtemp(prefix="ae_data_"))
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        sys.modules["tensorflow"] = real_tf
        sys.modules["absl.flags"] = absl_package.flags = real_flags
        sys.path[:] = saved_path
