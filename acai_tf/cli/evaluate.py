"""Evaluates a trained run: lines metrics, latent classifiers and K-means clustering.

Usage (`acai-evaluate` once installed, or `python -m flags.evaluate` from the repo root):

    acai-evaluate --workdir=out/mnist32_acai
    acai-evaluate --workdir=W --checkpoint=W/ckpt/ckpt-262144 --n_init=10

The model is rebuilt from W/config.json and its latest checkpoint (or --checkpoint). Results go
to W/eval/results.json and W/eval/interpolation.png, and as `eval/...` scalars to W/tb/eval.
The evaluations that apply are chosen from the dataset (see acai_tf.evaluation.suite). Bad input is
reported as one line, `error: ...`, with exit status 1.
"""

import json
import sys

from absl import flags

from acai_tf.cli import runner
from acai_tf.evaluation import checkpoint_eval, results as results_lib, suite

_DEFAULTS = checkpoint_eval.EvalOptions()


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the evaluate flags in `flag_values` (at run time, not on import)."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_string("workdir", None, "Training workdir (config.json and ckpt/).", **fv)
    flags.DEFINE_string("checkpoint", None, "Checkpoint path prefix; default the latest one.",
                        **fv)
    flags.DEFINE_integer("seed", _DEFAULTS.seed, "Draws the lines32 test lines; seeds K-means.",
                         **fv)
    flags.DEFINE_integer("n_init", _DEFAULTS.n_init, "K-means restarts (the paper: 1000).",
                         lower_bound=1, **fv)
    flags.DEFINE_integer("max_train_examples", _DEFAULTS.max_train_examples,
                         "Train examples encoded for the probe and K-means.", lower_bound=1,
                         **fv)
    flags.DEFINE_integer("batch_size", _DEFAULTS.batch_size, "Images per model call.",
                         lower_bound=1, **fv)
    flags.DEFINE_string("data_dir", None, "tfds data directory; default the run's.", **fv)
    flags.DEFINE_list("parts", None, f"Evaluations to run among {', '.join(suite.PARTS)} "
                      "(default: all that apply to the dataset).", **fv)


def evaluate_from_flags(flag_values: flags.FlagValues) -> int:
    """Runs the evaluation the parsed flags describe; returns the exit status."""
    return runner.exit_status(lambda: _evaluate(flag_values))


def _evaluate(fv: flags.FlagValues) -> None:
    options = checkpoint_eval.EvalOptions(
        seed=fv.seed, n_init=fv.n_init, max_train_examples=fv.max_train_examples,
        batch_size=fv.batch_size, data_dir=fv.data_dir,
        parts=tuple(fv.parts) if fv.parts else None)
    results = checkpoint_eval.evaluate(fv.workdir, checkpoint=fv.checkpoint, options=options)
    metrics = {part: results[part] for part in suite.PARTS if results[part] is not None}
    print(f"wrote {results_lib.results_path(fv.workdir)}: {json.dumps(metrics)}")


def main() -> None:
    sys.exit(evaluate_from_flags(flags.FLAGS))


def run() -> None:
    runner.run(__name__, main, define_flags=define_flags, required=("workdir",))


if __name__ == "__main__":
    run()
