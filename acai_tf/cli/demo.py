"""Demo: ACAI learns to interpolate lines in five to seven minutes on 2 CPU cores.

Usage (`make demo`, `acai-demo` once installed, or `python -m flags.demo` from the repo root):

    acai-demo [--workdir=out/demo] [--train_kimg=160] [--seed=0]

Trains ACAI on lines32 with the paper's networks and loss weights (depth 16, a 2x2x16 latent,
batch 64, advweight 0.5, reg 0.2) but a demo budget: learning rate 5e-4 instead of 1e-4 and
160 kimg instead of 16,384, so that the run leaves the early plateau (where it decodes a blurred
blob) within minutes. The paper's own runs are the flagfiles in flags/runs/. Then it

1. scores 256 decoded interpolations with the paper's lines metrics, next to blending the same
   endpoint pairs in pixel space (what an autoencoder that does not interpolate produces);
2. writes one figure with ACAI's interpolations beside pixel blending for the same pairs;
3. exports the encoder and decoder as a SavedModel for TF Serving, and has a fresh process
   answer one `interpolate` request from the export;
4. prints where everything is and how to open TensorBoard.

Rerunning resumes in the same workdir; a larger --train_kimg trains further.
"""

import dataclasses
import os
import subprocess
import sys
import time

import numpy as np
from absl import flags

from acai_tf import fast_conv, images, paper_runs, train_lib
from acai_tf import workdir as workdir_lib
from acai_tf.cli import runner
from acai_tf.config import ExperimentConfig
from acai_tf.evaluation.training_eval import TrainingEvaluations
from acai_tf.lines import metric
from acai_tf.serving import export_lib

PAPER_RUN = paper_runs.get("lines32_acai")
LEARNING_RATE = 5e-4  # The paper's 1e-4 stays on the early plateau for ~100 kimg.
FIGURE_PAIRS = 8
# For the time estimate: training images/s of this config on 2-core AMD EPYC CPUs (logged by
# training runs, reports included), with oneDNN on (AVX-512 VNNI/BF16) and off, and the minutes
# that start-up, the final evaluation, the figure and the export add.
MEASURED_RATE = {True: 570.0, False: 400.0}
EXTRA_MINUTES = 1.0


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the demo flags in `flag_values` (at run time, not on import)."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_string("workdir", "out/demo", "Run directory (resumed if it exists).", **fv)
    flags.DEFINE_float("train_kimg", 160, "Training length in kimg.", **fv)
    flags.DEFINE_float("report_kimg", 16, "Report period in kimg.", **fv)
    flags.DEFINE_integer("seed", 0, "Seed of weights, data and draws.", **fv)


def demo_config(train_kimg: float, report_kimg: float, seed: int) -> ExperimentConfig:
    """The paper's lines32 ACAI run (`paper_runs`) with the demo's learning rate and budget."""
    run = dataclasses.replace(PAPER_RUN, lr=LEARNING_RATE, train_kimg=train_kimg,
                              report_kimg=report_kimg)
    return run.experiment_config(seed=seed)


def pixel_blends(images_a, images_b, steps: int):
    """Cross-fades [N, steps, S, S, C] from images_a [N, S, S, C] to images_b, endpoints
    included."""
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape(1, steps, 1, 1, 1)
    return (1.0 - weights) * images_a[:, None] + weights * images_b[:, None]


def main() -> None:
    fv = flags.FLAGS
    workdir = fv.workdir
    config = demo_config(fv.train_kimg, fv.report_kimg, fv.seed)
    minutes = (fv.train_kimg * 1024 / MEASURED_RATE[fast_conv.onednn_enabled()] / 60
               + EXTRA_MINUTES)
    print(f"ACAI demo: trains ACAI on lines32 for {fv.train_kimg:g} kimg in {workdir} (about "
          f"{minutes:.0f} min on 2 CPU cores; faster with more), then scores its interpolations "
          "against pixel blending, writes a figure, exports a SavedModel and queries it.\n"
          f"Differs from the paper: learning rate {LEARNING_RATE:g} (paper {PAPER_RUN.lr:g}) "
          f"and {fv.train_kimg:g} kimg (paper {PAPER_RUN.train_kimg:g}); networks and loss "
          f"weights are the paper's (flags/runs/{PAPER_RUN.name}.flags).\n", flush=True)
    with runner.one_line_errors():
        summary = train_lib.train(config, workdir)
        model, config, _, _ = workdir_lib.restore_model(workdir)
        scores = _score(model, config, os.path.join(workdir, "demo_interpolations.png"))
        export_dir = os.path.join(workdir, "export")
        exported = export_lib.export(workdir, export_dir)
    print(f"\nACAI on lines32: step {summary['step']} ({summary['kimg']:.1f} kimg), "
          f"{summary['wall_time_s'] / 60:.1f} min this run\n\n"
          "| 256 interpolations | mean distance (lower is better) | smoothness (lower is better) |"
          "\n|---|---|---|")
    for name, metrics in scores.items():
        print(f"| {name} | {metrics['mean_distance']:.4g} | {metrics['mean_smoothness']:.3f} |")
    print(f"\n{_query_export(exported.path)}")
    tensorboard = os.path.join(workdir, workdir_lib.TENSORBOARD_DIR)
    print(f"\nFigure (ACAI vs pixel blending): {os.path.join(workdir, 'demo_interpolations.png')}"
          f"\nImage grids:      {os.path.join(workdir, workdir_lib.IMAGES_DIR)}"
          f"\nCheckpoints:      {workdir_lib.checkpoint_dir(workdir)}"
          f"\nSavedModel:       {exported.path} (TF Serving config: {exported.models_config})"
          f"\nTensorBoard logs: {tensorboard}"
          f"\nOpen TensorBoard: tensorboard --logdir {tensorboard}")


def _score(model, config: ExperimentConfig, figure_path: str) -> dict[str, dict[str, float]]:
    """Lines metrics of ACAI's and of pixel-blended interpolations between the same endpoints,
    and the figure of the first FIGURE_PAIRS of both."""
    evaluator = TrainingEvaluations(model, config)
    pairs, steps = evaluator.settings.lines_pairs, evaluator.settings.lines_steps
    ends_a, ends_b = evaluator.pool[:pairs], evaluator.pool[pairs:2 * pairs]
    decoded = evaluator.lines_interpolations()
    blended = pixel_blends(ends_a, ends_b, steps)
    shown = slice(0, FIGURE_PAIRS)
    images.write_png(figure_path, images.side_by_side([
        ("ACAI (decoded latent interpolation)",
         images.interpolation_figure(ends_a[shown], ends_b[shown], decoded[shown])),
        ("Pixel blending", images.interpolation_figure(ends_a[shown], ends_b[shown],
                                                         blended[shown]))]))
    return {"ACAI (this run)": metric.line_metrics(decoded),
            "Pixel blending": metric.line_metrics(blended)}


# Run in a fresh interpreter: loads the SavedModel alone, as a serving process would.
_QUERY = """
import sys, numpy as np, tensorflow as tf
from acai_tf import lines
served = tf.saved_model.load(sys.argv[1]).signatures["interpolate"]
a, b = lines.render_lines(np.array([0.3])), lines.render_lines(np.array([2.0]))
out = served(images_a=tf.constant(a), images_b=tf.constant(b), steps=tf.constant(8),
             method=tf.constant("linear"))["images"]
print(f"interpolate request answered from {sys.argv[1]} in a fresh process: images "
      f"{list(out.shape)}, values in [{float(tf.reduce_min(out)):.2f}, "
      f"{float(tf.reduce_max(out)):.2f}]")
"""


def _query_export(path: str) -> str:
    start = time.monotonic()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", _QUERY, path], capture_output=True,
                            text=True, env=env, timeout=300, check=False)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        runner.fail(f"the exported model did not answer: {lines[-1] if lines else 'no output'}")
    return f"{result.stdout.strip()} ({time.monotonic() - start:.1f} s)"


def run() -> None:
    runner.run(__name__, main, define_flags=define_flags)


if __name__ == "__main__":
    run()
