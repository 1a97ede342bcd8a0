"""Console-script entry points (`acai-train`, `acai-evaluate`, ...) for the repo's binaries.

The binaries live beside the library in the source tree (`flags/`, `export/`), which is not
installed into site-packages: a top-level package named `flags` or `export` would shadow other
distributions. `pip install -e .` (what `make` does) keeps this package in the source tree, so
the entry points find the binaries next to it.
"""

from __future__ import annotations

import importlib
import os
import sys

_SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(module: str) -> None:
    if not os.path.isfile(os.path.join(_SOURCE_ROOT, *module.split(".")) + ".py"):
        sys.exit(f"error: {module} is not beside the installed acai_tf ({_SOURCE_ROOT}); "
                 "install the repository with `pip install -e .` or run `python -m "
                 f"{module}` from its root")
    if _SOURCE_ROOT not in sys.path:
        sys.path.insert(0, _SOURCE_ROOT)
    importlib.import_module(module).run()


def train() -> None:
    _run("flags.train")


def evaluate() -> None:
    _run("flags.evaluate")


def report() -> None:
    _run("flags.report")


def prepare_data() -> None:
    _run("flags.prepare_data")


def export() -> None:
    _run("export.export_saved_model")


def demo() -> None:
    _run("flags.demo")
