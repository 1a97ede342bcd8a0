"""Demo: ACAI learns to interpolate lines in five to seven minutes on 2 CPU cores.

Usage (`make demo`, `acai-demo` once installed, or `python -m flags.demo` from the repo root):

    acai-demo [--workdir=out/demo] [--train_kimg=160] [--seed=0]
    acai-demo --pretrained [--pretrained_dir=pretrained/lines32_acai] [--workdir=out/demo]

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

With --pretrained (`make demo DEMO_ARGS=--pretrained`) nothing is trained: in seconds it loads
the model shipped in the repository (pretrained/lines32_acai beside the acai_tf package, written
by benchmarks/ship_pretrained.py; --pretrained_dir names another), scores the same 256 pairs
through the SavedModel's `interpolate` signature and prints the same table beside the scores
committed in its metrics.json, and writes the same figure as WORKDIR/pretrained_interpolations.png.
"""

import dataclasses
import math
import os
import subprocess
import sys
import time
from typing import Sequence

import numpy as np
from absl import flags

from acai_tf.outputs import images, text_tables
from acai_tf.reproduction import paper_runs
from acai_tf.speed import fast_conv
from acai_tf.training import machine, train_lib
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.cli import runner
from acai_tf.config import ExperimentConfig
from acai_tf.evaluation.runner import ModelRunner
from acai_tf.lines.metric import STEPS
from acai_tf.serving import export_lib, pretrained

PAPER_RUN = paper_runs.get("lines32_acai")
LEARNING_RATE = 5e-4  # The paper's 1e-4 stays on the early plateau for ~100 kimg.
FIGURE_PAIRS = 8
# For the time estimate: training images/s of the demo's run on 2-core AMD EPYC CPUs, from its
# report lines (evaluations included), by (AVX-512 VNNI present, oneDNN on), as (slowest,
# fastest) CPU measured in that class. Without AVX-512 the classes differ ~2x: a first Zen
# (family 23, AVX2 units 128 bits wide) trained at 120-130 images/s with oneDNN on and 99-102
# off; a Zen 3-class EPYC (AVX2 256 bits wide) at 199-245 with oneDNN on (the whole demo in
# 13 min), off not measured.
MEASURED_RATE = {(True, True): (570.0, 570.0), (True, False): (400.0, 400.0),
                 (False, True): (125.0, 220.0), (False, False): (100.0, 100.0)}
EXTRA_MINUTES = 1.0
TRAINING_FLAGS = ("train_kimg", "report_kimg", "seed")
SCORES_HEADER = ("256 interpolations", "mean distance (lower is better)",
                 "smoothness (lower is better)")


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the demo flags in `flag_values` (at run time, not on import)."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_string("workdir", "out/demo", "Run directory (resumed if it exists); with "
                        "--pretrained, where the figure goes.", **fv)
    flags.DEFINE_float("train_kimg", 160, "Training length in kimg.", **fv)
    flags.DEFINE_float("report_kimg", 16, "Report period in kimg.", **fv)
    flags.DEFINE_integer("seed", 0, "Seed of weights, data and draws.", **fv)
    flags.DEFINE_bool("pretrained", False, "Train nothing: score and draw the shipped model.", **fv)
    flags.DEFINE_string("pretrained_dir", None, "The shipped model's folder with --pretrained "
                        f"(default {pretrained.REPOSITORY_FOLDER} beside the acai_tf package).",
                        **fv)


def demo_config(train_kimg: float, report_kimg: float, seed: int) -> ExperimentConfig:
    """The paper's lines32 ACAI run (`paper_runs`) with the demo's learning rate and budget."""
    run = dataclasses.replace(PAPER_RUN, lr=LEARNING_RATE, train_kimg=train_kimg,
                              report_kimg=report_kimg)
    return run.experiment_config(seed=seed)


def estimated_minutes(train_kimg: float, avx512_vnni: bool, onednn: bool) -> tuple[float, float]:
    """Wall minutes (fastest, slowest CPU measured) of a demo run of `train_kimg` kimg on 2 CPU
    cores of that class."""
    slowest, fastest = MEASURED_RATE[avx512_vnni, onednn]
    return (train_kimg * 1024 / fastest / 60 + EXTRA_MINUTES,
            train_kimg * 1024 / slowest / 60 + EXTRA_MINUTES)


def describe_minutes(minutes: tuple[float, float]) -> str:
    """"about 5 min", or "13 to 23 min" where the CPUs of a class differ."""
    low, high = round(minutes[0]), round(minutes[1])
    return f"about {low} min" if low == high else f"{low} to {high} min"


def main() -> None:
    fv = flags.FLAGS
    if fv.pretrained:
        _check_pretrained_flags(fv)
        _pretrained_demo(fv.pretrained_dir or pretrained.default_folder(), fv.workdir)
        return
    if fv["pretrained_dir"].present:
        runner.fail("--pretrained_dir is read with --pretrained only; add --pretrained")
    workdir = fv.workdir
    config = demo_config(fv.train_kimg, fv.report_kimg, fv.seed)
    avx512 = "avx512_vnni" in machine.cpu_flags()
    minutes = estimated_minutes(fv.train_kimg, avx512, fast_conv.onednn_enabled())
    print(f"ACAI demo: trains ACAI on lines32 for {fv.train_kimg:g} kimg in {workdir} ("
          f"{describe_minutes(minutes)} on 2 CPU cores {'with' if avx512 else 'without'} "
          "AVX-512; faster with more), then scores its interpolations "
          "against pixel blending, writes a figure, exports a SavedModel and queries it.\n"
          f"Differs from the paper: learning rate {LEARNING_RATE:g} (paper {PAPER_RUN.lr:g}) "
          f"and {fv.train_kimg:g} kimg (paper {PAPER_RUN.train_kimg:g}); networks and loss "
          f"weights are the paper's (flags/runs/{PAPER_RUN.name}.flags).\n", flush=True)
    with runner.one_line_errors():
        summary = train_lib.train(config, workdir)
        model, config, _, _ = workdir_lib.restore_model(workdir)
        ends_a, ends_b = pretrained.benchmark_pairs(config)
        decoded = ModelRunner(model).interpolate(ends_a, ends_b, STEPS, pairs_per_call=64)
        scores = _score(ends_a, ends_b, decoded, "ACAI (this run)",
                        os.path.join(workdir, "demo_interpolations.png"))
        export_dir = os.path.join(workdir, "export")
        exported = export_lib.export(workdir, export_dir)
    print(f"\nACAI on lines32: step {summary['step']} ({summary['kimg']:.1f} kimg), "
          f"{summary['wall_time_s'] / 60:.1f} min this run\n")
    print("\n".join(scores_table(scores)))
    print(f"\n{_query_export(exported.path)}")
    tensorboard = os.path.join(workdir, workdir_lib.TENSORBOARD_DIR)
    print(f"\nFigure (ACAI vs pixel blending): {os.path.join(workdir, 'demo_interpolations.png')}"
          f"\nImage grids:      {os.path.join(workdir, workdir_lib.IMAGES_DIR)}"
          f"\nCheckpoints:      {workdir_lib.checkpoint_dir(workdir)}"
          f"\nSavedModel:       {exported.path} (TF Serving config: {exported.models_config})"
          f"\nTensorBoard logs: {tensorboard}"
          f"\nOpen TensorBoard: tensorboard --logdir {tensorboard}")


def _score(ends_a: np.ndarray, ends_b: np.ndarray, decoded: np.ndarray, label: str,
           figure_path: str) -> dict[str, dict[str, float]]:
    """Lines metrics of ACAI's and of pixel-blended interpolations between the same endpoints,
    and the figure of the first FIGURE_PAIRS of both; both demos use it.

    Args:
        ends_a, ends_b: the benchmark's endpoint lines, float32 [256, 32, 32, 1] in [-1, 1].
        decoded: ACAI's interpolations between them, [256, 16, 32, 32, 1].
        label: the table's name for ACAI's row.
        figure_path: the PNG to write.

    Returns:
        {label: ACAI's metrics, "Pixel blending": those of the cross-fades}.
    """
    scores = pretrained.lines_scores(ends_a, ends_b, decoded)
    shown = slice(0, FIGURE_PAIRS)
    blended = pretrained.pixel_blends(ends_a[shown], ends_b[shown], decoded.shape[1])
    images.write_png(figure_path, images.side_by_side([
        ("ACAI (decoded latent interpolation)",
         images.interpolation_figure(ends_a[shown], ends_b[shown], decoded[shown])),
        ("Pixel blending", images.interpolation_figure(ends_a[shown], ends_b[shown], blended))]))
    return {label: scores["model"], "Pixel blending": scores["pixel_blending"]}


def _check_pretrained_flags(fv: flags.FlagValues) -> None:
    """Refuses training flags beside --pretrained: they would silently do nothing."""
    given = [f"--{name}" for name in TRAINING_FLAGS if fv[name].present]
    if given:
        runner.fail(f"{', '.join(given)}: training flags, and --pretrained trains nothing")


def _pretrained_demo(folder: str, out_dir: str) -> None:
    """Scores the shipped model in `folder` and writes its figure into `out_dir`."""
    start = time.monotonic()
    with runner.one_line_errors():
        shipped = pretrained.load(folder)
    taken = shipped.metrics.get("checkpoint", {})
    print(f"ACAI demo, pretrained: the shipped lines32 ACAI model in {folder}, taken at step "
          f"{taken.get('step')}, {taken.get('taken_at')}.\nTrains nothing: scores its "
          "interpolations against pixel blending of the same 256 pairs and writes a figure.\n",
          flush=True)
    ends_a, ends_b = pretrained.benchmark_pairs(shipped.config)
    decoded = pretrained.interpolations(shipped.saved_model, ends_a, ends_b)
    figure = os.path.join(out_dir, "pretrained_interpolations.png")
    scores = _score(ends_a, ends_b, decoded, "ACAI (shipped model)", figure)
    committed = shipped.metrics.get("lines_benchmark", {})
    committed = [committed.get(key) or {} for key in ("exported_model", "pixel_blending")]
    print(f"ACAI on lines32, shipped model: loaded and scored in {time.monotonic() - start:.1f} s"
          "\n")
    print("\n".join(scores_table(scores, committed)))
    print(f"\nFigure (ACAI vs pixel blending): {figure}"
          f"\nSavedModel:       {shipped.saved_model}"
          f"\nAbout the model:  {os.path.join(folder, pretrained.README_FILENAME)}")


def scores_table(scores: dict[str, dict[str, float]],
                 committed: Sequence[dict[str, float]] | None = None) -> list[str]:
    """The lines of the demo's Markdown table of scores.

    Args:
        scores: {row name: {"mean_distance", "mean_smoothness"}}, as `_score` returns them.
        committed: per row, the scores saved in the shipped model's metrics.json ({} where
            absent); None for a trained run, whose table has no such columns.
    """
    if committed is None:
        return text_tables.markdown(SCORES_HEADER, [
            [name, f"{metrics['mean_distance']:.4g}", f"{metrics['mean_smoothness']:.3f}"]
            for name, metrics in scores.items()])
    values = [(name, metrics["mean_distance"], metrics["mean_smoothness"],
               saved.get("mean_distance"), saved.get("mean_smoothness"))
              for (name, metrics), saved in zip(scores.items(), committed)]
    return text_tables.markdown(
        (*SCORES_HEADER, "in metrics.json: distance", "smoothness"),
        [[name, *(_number(value, spec) for value, spec in zip(numbers, (".4g", ".3f") * 2))]
         for name, *numbers in values])


def _number(value: float | None, spec: str) -> str:
    """value formatted with spec, or "n/a" for an undefined score (NaN, null in metrics.json)."""
    return "n/a" if value is None or math.isnan(value) else format(value, spec)


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
