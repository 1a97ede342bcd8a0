"""Exports a trained model's encoder and decoder as a versioned SavedModel for TF Serving.

Usage (from the repo root):

    python -m export.export_saved_model --workdir=W --export_dir=E \
        [--version=N] [--model_name=NAME] [--checkpoint=W/ckpt/ckpt-STEP] [--serving_root=/models]

writes `E/NAME/N/` (NAME defaults to the model's registered name, e.g. `acai`; N to one more than
the largest existing version) from W's latest checkpoint, and adds NAME to `E/models.config`. An
existing version is never overwritten. Errors are one line, `error: ...`, with exit status 1.
See export/README.md for serving it.
"""

import os
import sys

# TensorFlow's C++ start-up chatter on stderr would bury the one-line error; set before the
# first TensorFlow import, and only as a default.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# pylint: disable=wrong-import-position
from absl import app
from absl import flags
from absl import logging

from export import export_lib

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir (config.json and ckpt/).")
_EXPORT_DIR = flags.DEFINE_string("export_dir", None, "Folder of exported models (E).")
_VERSION = flags.DEFINE_string(
    "version", None, "Version number, a positive integer (default: next after the existing).")
_MODEL_NAME = flags.DEFINE_string(
    "model_name", None, "Model name for clients (default: the model's name, e.g. acai).")
_CHECKPOINT = flags.DEFINE_string(
    "checkpoint", None, "Checkpoint path prefix (default: the workdir's latest).")
_SERVING_ROOT = flags.DEFINE_string(
    "serving_root", "/models",
    "export_dir as the server sees it; models.config base paths are <serving_root>/<name>.")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    logging.set_verbosity(logging.WARNING)  # SavedModel writing logs a dozen INFO lines.
    try:
        version = None if _VERSION.value is None else export_lib.parse_version(_VERSION.value)
        result = export_lib.export(
            _WORKDIR.value, _EXPORT_DIR.value, version=version, model_name=_MODEL_NAME.value,
            checkpoint=_CHECKPOINT.value, serving_root=_SERVING_ROOT.value)
    # Bad input (missing workdir, existing version, ...) deserves one readable line, and so does
    # anything unexpected: a traceback through TensorFlow internals helps no user.
    except Exception as err:  # pylint: disable=broad-except
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"error: {first_line}", file=sys.stderr)
        sys.exit(1)
    print(f"exported {result.model_name} version {result.version} (step {result.step}, "
          f"{result.checkpoint}) to {result.path}; models listed in {result.models_config}")


if __name__ == "__main__":
    flags.mark_flags_as_required(["workdir", "export_dir"])
    app.run(main)
