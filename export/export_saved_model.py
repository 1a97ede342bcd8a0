"""Exports a trained model's encoder and decoder as a versioned SavedModel for TF Serving.

Usage (from the repo root; `acai-export` is the same as a console script):

    python -m export.export_saved_model --workdir=W --export_dir=E \
        [--version=N] [--model_name=NAME] [--checkpoint=W/ckpt/ckpt-STEP] [--serving_root=/models]

writes `E/NAME/N/` (NAME defaults to the model's registered name, e.g. `acai`; N to one more than
the largest existing version) from W's latest checkpoint, and adds NAME to `E/models.config`. An
existing version is never overwritten. Errors are one line, `error: ...`, with exit status 1.
See export/README.md for serving it.
"""

import sys

from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
from absl import app
from absl import flags
from absl import logging

from export import export_lib
from flags import flag_defs


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the export flags in `flag_values` (at run time, not on import)."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_string("workdir", None, "Training workdir (config.json and ckpt/).", **fv)
    flags.DEFINE_string("export_dir", None, "Folder of exported models, one folder per model.",
                        **fv)
    flags.DEFINE_integer("version", None, "Version number (default: one more than the largest "
                         "existing version of the model, or 1).", lower_bound=1, **fv)
    flags.DEFINE_string("model_name", None,
                        "Model name for clients (default: the model's name, e.g. acai).", **fv)
    flags.DEFINE_string("checkpoint", None, "Checkpoint path prefix (default: the latest).", **fv)
    flags.DEFINE_string("serving_root", "/models", "export_dir as the server sees it: "
                        "models.config base paths are <serving_root>/<model_name>.", **fv)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        print(f"error: unexpected arguments: {' '.join(argv[1:])}", file=sys.stderr)
        sys.exit(1)
    logging.set_verbosity(logging.WARNING)  # SavedModel writing logs a dozen INFO lines.
    fv = flags.FLAGS
    try:
        result = export_lib.export(fv.workdir, fv.export_dir, version=fv.version,
                                   model_name=fv.model_name, checkpoint=fv.checkpoint,
                                   serving_root=fv.serving_root)
    # Bad input (missing workdir, existing version, ...) deserves one readable line, and so does
    # anything unexpected: a traceback through TensorFlow internals helps no user.
    except Exception as err:  # pylint: disable=broad-except
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"error: {first_line}", file=sys.stderr)
        sys.exit(1)
    print(f"exported {result.model_name} version {result.version} (step {result.step}, "
          f"{result.checkpoint}) to {result.path}; models listed in {result.models_config}")


def run() -> None:
    define_flags()
    flags.mark_flags_as_required(["workdir", "export_dir"])
    app.run(main, flags_parser=flag_defs.parse_or_exit)


if __name__ == "__main__":
    run()
