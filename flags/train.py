"""Trains one autoencoder into a workdir; rerunning the same command resumes it.

Usage (from the repo root):

    python -m flags.train --model=acai --dataset=lines32 --depth=16 --latent=16 \
        --latent_width=2 --workdir=out/lines32_acai
    python -m flags.train --flagfile=flags/runs/mnist32_acai_latent16.flags --workdir=W

Durations are in kimg (thousands of images); --batch is the global batch. Model flags such as
--advweight apply only to the models that take them. Bad input is reported as one line,
`error: ...`, with exit status 1, and leaves an existing workdir untouched.
"""

import sys

from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
from absl import app
from absl import flags
from absl import logging

from acai_tf import train_lib
from flags import flag_defs

FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        print(f"error: unexpected arguments: {' '.join(argv[1:])}", file=sys.stderr)
        sys.exit(1)
    if not FLAGS["verbosity"].present:
        # Library INFO/WARNING logs (tfds probing a data_dir) would crowd the one-line errors.
        logging.set_verbosity(logging.ERROR)
    try:
        config = flag_defs.config_from_flags(FLAGS)
        summary = train_lib.train(config, FLAGS.workdir)
    except train_lib.USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    metrics = " ".join(f"{key} {value:.4g}" for key, value in sorted(summary["metrics"].items())
                       if key.startswith("eval/"))
    print(f"done: step {summary['step']} ({summary['kimg']:.1f} kimg) in "
          f"{summary['wall_time_s']:.0f} s {metrics}".rstrip())


def run() -> None:
    flag_defs.define_flags()
    flags.mark_flag_as_required("workdir")
    app.run(main, flags_parser=flag_defs.parse_or_exit)


if __name__ == "__main__":
    run()
