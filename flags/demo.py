"""Demo: trains ACAI on lines32 with the paper's configuration for a short budget.

Usage (from the repo root; `make demo` runs it):

    python -m flags.demo [--workdir=out/demo] [--train_kimg=96] [--report_kimg=16]

The paper's lines32 ACAI (depth 16, a 2 x 2 x 16 latent, batch 64, advweight 0.5, reg 0.2) for
96 kimg instead of 16,384: about 10 minutes on 2 CPU cores. Every report computes the lines
benchmark (mean distance and smoothness of 256 interpolations). Rerunning resumes in the same
workdir; a larger --train_kimg continues training.
"""

import os
import sys

from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
from absl import app
from absl import flags
from absl import logging

from acai_tf import distribute, train_lib, workdir as workdir_lib
from acai_tf.config import ExperimentConfig, ModelConfig, TrainConfig
from flags import flag_defs

_WORKDIR = flags.DEFINE_string("workdir", "out/demo", "Run directory (resumed if it exists).")
_TRAIN_KIMG = flags.DEFINE_float("train_kimg", 96, "Training length in kimg.")
_REPORT_KIMG = flags.DEFINE_float("report_kimg", 16, "Report period in kimg.")
_STRATEGY = flags.DEFINE_enum("strategy", "auto", list(distribute.STRATEGIES),
                              "Distribution strategy.")


def demo_config() -> ExperimentConfig:
    """The paper's lines32 ACAI run (spec section 4.2) with the demo's budget."""
    model = ModelConfig(name="acai", image_size=32, colors=1, nclass=10, depth=16, latent=16,
                        latent_width=2, lr=1e-4, hparams={"advweight": 0.5, "reg": 0.2})
    train = TrainConfig(dataset="lines32", batch=64, train_kimg=_TRAIN_KIMG.value,
                        report_kimg=_REPORT_KIMG.value, seed=0, strategy=_STRATEGY.value)
    return ExperimentConfig(model=model, train=train)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        print(f"error: unexpected arguments: {' '.join(argv[1:])}", file=sys.stderr)
        sys.exit(1)
    if not flags.FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)  # TensorFlow's INFO lines would bury progress.
    workdir = _WORKDIR.value
    try:
        summary = train_lib.train(demo_config(), workdir)
    except train_lib.USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    metrics = summary["metrics"]
    print(f"\nACAI on lines32: step {summary['step']} ({summary['kimg']:.1f} kimg), "
          f"{summary['wall_time_s'] / 60:.1f} min this run")
    for key in ("eval/mean_distance", "eval/mean_smoothness", "eval/latent_accuracy"):
        if key in metrics:
            print(f"  {key:24s} {metrics[key]:.4g}")
    tensorboard = os.path.join(workdir, workdir_lib.TENSORBOARD_DIR)
    print(f"TensorBoard logs: {tensorboard}\n"
          f"Image grids:      {os.path.join(workdir, workdir_lib.IMAGES_DIR)}\n"
          f"Checkpoints:      {workdir_lib.checkpoint_dir(workdir)}\n"
          f"View with:        tensorboard --logdir {tensorboard}")


if __name__ == "__main__":
    app.run(main, flags_parser=flag_defs.parse_or_exit)
