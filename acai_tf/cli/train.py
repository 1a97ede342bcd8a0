r"""Trains one autoencoder into a workdir; rerunning the same command resumes it.

Usage (`acai-train` once installed, or `python -m flags.train` from the repo root):

    acai-train --model=acai --dataset=lines32 --depth=16 --latent=16 --latent_width=2 \
        --workdir=out/lines32_acai
    acai-train --flagfile=flags/runs/mnist32_acai_latent16.flags --workdir=W
    acai-train --dataset=folder:/path/to/images --image_size=64 --workdir=W

Durations are in kimg (thousands of images); --batch is the global batch. Model flags such as
--advweight apply only to the models that take them. Bad input is reported as one line,
`error: ...`, with exit status 1, and leaves an existing workdir untouched. A workdir that
another process is training is refused.
"""

from absl import flags

from acai_tf.training import train_lib
from acai_tf.cli import flag_defs, runner


def main() -> None:
    with runner.one_line_errors():
        config = flag_defs.config_from_flags(flags.FLAGS)
        summary = train_lib.train(config, flags.FLAGS.workdir)
    metrics = " ".join(f"{key} {value:.4g}" for key, value in sorted(summary["metrics"].items())
                       if key.startswith("eval/"))
    print(f"done: step {summary['step']} ({summary['kimg']:.1f} kimg) in "
          f"{summary['wall_time_s']:.0f} s {metrics}".rstrip())


def run() -> None:
    runner.run(__name__, main, define_flags=flag_defs.define_flags, required=("workdir",))


if __name__ == "__main__":
    run()
