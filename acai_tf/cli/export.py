r"""Exports a trained model's encoder and decoder as a versioned SavedModel for TF Serving.

Usage (`acai-export` once installed, or `python -m export.export_saved_model` from the repo root):

    acai-export --workdir=W --export_dir=E \
        [--version=N] [--model_name=NAME] [--checkpoint=W/ckpt/ckpt-STEP] [--serving_root=/models]

writes `E/NAME/N/` (NAME defaults to the model's registered name, e.g. `acai`; N to one more than
the largest existing version) from W's latest checkpoint, and adds NAME to `E/models.config`. An
existing version is never overwritten. Errors are one line, `error: ...`, with exit status 1.
See export/README.md for serving it.
"""

from absl import flags

from acai_tf.cli import runner
from acai_tf.serving import export_lib


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


def main() -> None:
    fv = flags.FLAGS
    # Bad input (missing workdir, existing version, ...) deserves one readable line, and so does
    # anything unexpected: a traceback through TensorFlow internals helps no user.
    with runner.one_line_errors(Exception):
        result = export_lib.export(fv.workdir, fv.export_dir, version=fv.version,
                                   model_name=fv.model_name, checkpoint=fv.checkpoint,
                                   serving_root=fv.serving_root)
    print(f"exported {result.model_name} version {result.version} (step {result.step}, "
          f"{result.checkpoint}) to {result.path}; models listed in {result.models_config}")


def run() -> None:
    runner.run(__name__, main, define_flags=define_flags, required=("workdir", "export_dir"))


if __name__ == "__main__":
    run()
