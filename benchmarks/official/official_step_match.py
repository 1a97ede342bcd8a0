"""Do our training steps equal the official code's? Both start from the same weights and eat the
same batches; their losses and weights are compared step by step.

    python benchmarks/official/official_step_match.py --reference_dir=PATH --model=vqvae \
        --steps=50 --out=results/official_step_match_vqvae.md

The models whose step draws no random numbers (baseline and VQ-VAE) are compared: from equal
weights and equal batches the two codes compute the same function, so any gap beyond float
rounding is a difference in the step itself (a loss, an update rule, an optimizer constant).
The official graph is built as official_reference.py trains it (official_loader.build_graph: the
paper's flags of flags/runs/lines32_<model>.flags, the fixes of tf1_shims), initialised by its own
initialisers; its weights are then copied into our model (encoder, decoder and, for the
VQ-VAE, projection, MLP, codebook and EMA statistics), both optimizers starting fresh. Each
step feeds one batch of our lines32 stream to both: the official train op, and our
`update_networks` (everything but the latent classifier, which neither code lets touch the
autoencoder).

Printed, one row per step: both codes' reconstruction MSE of the batch before the update and
their relative gap, and `weight gap`: over all compared variables, the largest
||ours - official|| / ||official - official at step 0|| (L2 norms of each variable), i.e. how
far apart the two trajectories are as a fraction of how far training has moved the weights.
Rounding alone makes both gaps grow, at a rate that depends on the model, so each row also
gives them for a rounding control: a second copy of our model started from the official
weights times (1 + CONTROL_PERTURBATION), against our model. A step that differs from ours
shows as gaps well above the control's (twice the learning rate: a weight gap near 1/2 from the
first step); the same step, as gaps of the control's size.

Bad input (no checkout, a model with random draws in its step): one line `error: ...`,
exit status 1.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Sequence

# Run as a script, only benchmarks/official/ is on sys.path; the library lives at the
# repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
import numpy as np
import tensorflow as tf
from absl import app, flags, logging

from acai_tf import datasets, models
from acai_tf.outputs import atomic_write, text_tables
from acai_tf.training import machine
from acai_tf.cli import runner
from acai_tf.config import ConfigError

from acai_tf.cli import reproduce as reproduce_cli

import official_loader  # pylint: disable=wrong-import-order

v1 = tf.compat.v1

# The official variables (by name prefix, in the order the official graph creates them) that
# hold each of our weight lists (in our layers' order). Models absent draw random numbers in
# their step (noise, dropout masks, prior samples, mixing coefficients): no step-by-step match.
PAIRS: dict[str, tuple[tuple[str, Callable[[Any], list]], ...]] = {
    "baseline": (
        ("ae_encoder/", lambda model: model.encoder.weights),
        ("ae_decoder/", lambda model: model.decoder.weights)),
    "vqvae": (
        ("ae_encoder/", lambda model: model.encoder.weights),
        ("vqvae/ae_decoder/", lambda model: model.decoder.weights),
        ("vqvae/dense/", lambda model: model.project.weights),
        ("vqvae/bottleneck/vch2/", lambda model: model.expand.weights),
        ("vqvae/bottleneck/vcfin/", lambda model: model.restore.weights),
        ("means", lambda model: [model.quantizer.codebook]),
        ("ema_count_0", lambda model: [model.quantizer.ema_counts]),
        ("ema_means_0", lambda model: [model.quantizer.ema_sums])),
}


def paired_variables(graph: tf.Graph, model, name: str) -> list[tuple[Any, Any]]:
    """[(official variable, our variable)] for every compared weight, shapes checked.

    Raises:
        ConfigError: the two codes' variables do not pair up (count or size).
    """
    official = [variable for variable in graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)
                if "Adam" not in variable.op.name]
    pairs = []
    for prefix, ours_of in PAIRS[name]:
        theirs = [v for v in official if v.op.name.startswith(prefix)
                  and (prefix.endswith("/") or v.op.name == prefix)]
        ours = ours_of(model)
        if len(theirs) != len(ours):
            raise ConfigError(f"{prefix}: the official graph has {len(theirs)} variables, "
                              f"ours {len(ours)}")
        for their, our in zip(theirs, ours):
            if their.shape.num_elements() != int(np.prod(our.shape)):
                raise ConfigError(f"{their.op.name} {their.shape} does not match our "
                                  f"{our.path} {tuple(our.shape)}")
            pairs.append((their, our))
    return pairs


# The rounding control's relative perturbation of the initial weights: a few float32 ulps.
CONTROL_PERTURBATION = 1e-6


def _relative_gap(values: Sequence[np.ndarray], reference: Sequence[np.ndarray],
                  start: Sequence[np.ndarray]) -> float:
    """max over variables of ||value - reference|| / ||reference - start|| (moved ones only)."""
    gap = 0.0
    for value, ref, initial in zip(values, reference, start):
        moved = float(np.linalg.norm(ref - initial))
        if moved > 0:
            gap = max(gap, float(np.linalg.norm(value - ref)) / moved)
    return gap


def match(reference_dir: str, name: str, steps: int, seed: int = 0,
          overrides: Sequence[tuple[str, Any]] = (),
          log: Callable[[str], None] = print) -> list[dict[str, float]]:
    """Trains both codes `steps` steps from the official initial weights, and a rounding control.

    The control is a second copy of our model whose initial weights are the official ones
    times (1 + CONTROL_PERTURBATION): its gap to our model is what float32 rounding alone does
    to two trajectories of the same code, the noise floor of the comparison.

    Returns:
        One row per step: {"step", "official_mse", "ours_mse", "mse_gap" (relative, ours
        against the official), "weight_gap" (ours against the official), "control_mse_gap"
        and "control_gap" (the same for the control against ours)} (see the module docstring).

    Raises:
        A UserError with a one-line message for a bad request.
    """
    if name not in PAIRS:
        raise ConfigError(f"--model={name} draws random numbers in its step; only "
                          f"{', '.join(PAIRS)} can be matched step by step")
    model_class, official_flags = official_loader.load(reference_dir, name)
    config = reproduce_cli.paper_config("lines32", name, 16, seed, dict(overrides))
    params = official_loader.official_params(config, model_class)
    official_flags.lr, official_flags.batch = config.model.lr, config.train.batch
    graph, ops, reconstruction = official_loader.build_graph(model_class, params, seed)
    session = v1.Session(graph=graph)
    with graph.as_default():
        session.run(v1.global_variables_initializer())

    def our_copy():
        """A copy of our model: its weights paired with the official variables, and its step."""
        model = models.build(config.model, seed=seed)
        model.compile()
        pairs = paired_variables(graph, model, name)

        @tf.function
        def step(images):
            _, logs = model.update_networks(images)
            return tf.reduce_mean(logs["losses/reconstruction"])
        return [their for their, _ in pairs], [our for _, our in pairs], step

    official, ours, our_step = our_copy()
    _, control, control_step = our_copy()
    start = session.run(official)
    for weights, scale in ((ours, 1.0), (control, 1.0 + CONTROL_PERTURBATION)):
        for value, our in zip(start, weights):
            our.assign(value.reshape(our.shape) * scale)
    batches = datasets.train_stream("lines32", batch_size=config.train.batch,
                                    seed=seed).as_numpy_iterator()
    one_hot = np.eye(datasets.get_info("lines32").nclass, dtype=np.float32)
    rows = []
    for step in range(1, steps + 1):
        example = next(batches)
        _, official_mse = session.run([ops.train_op, reconstruction], feed_dict={
            ops.x: example["image"], ops.label: one_hot[example["label"]]})
        images = tf.constant(example["image"])
        ours_mse = float(our_step(images))
        control_mse = float(control_step(images))
        now = session.run(official)
        our_now = [our.numpy().reshape(value.shape) for our, value in zip(ours, now)]
        row = {"step": step, "official_mse": float(official_mse), "ours_mse": ours_mse,
               "mse_gap": abs(ours_mse - official_mse) / official_mse,
               "control_mse_gap": abs(control_mse - ours_mse) / ours_mse,
               "weight_gap": _relative_gap(our_now, now, start),
               "control_gap": _relative_gap(
                   [c.numpy().reshape(value.shape) for c, value in zip(control, now)],
                   our_now, start)}
        rows.append(row)
        log(f"step {step}: MSE official {official_mse:.6f} ours {ours_mse:.6f} "
            f"(gap {row['mse_gap']:.1e}, rounding control {row['control_mse_gap']:.1e}), "
            f"weight gap {row['weight_gap']:.1e} (rounding control {row['control_gap']:.1e})")
    session.close()
    return rows


def markdown(rows: Sequence[dict[str, float]], name: str, reference_dir: str) -> str:
    """The rows as a results page: what was run, on which machine, and the table."""
    lines = [f"# One training step, ours against the official code: {name} on lines32", "",
             "Written by `python benchmarks/official/official_step_match.py --model="
             f"{name} --steps={len(rows)}`: both codes start from the official graph's initial "
             "weights and train on the same batches of our lines32 stream (paper flags, "
             "float32). `weight gap`: the largest ||ours - official|| / ||official - "
             "official at step 0|| (L2 norm of each variable) over the compared variables "
             "(how far apart the two trajectories are, as a fraction of how far training "
             "moved the weights).", "",
             f"Official checkout {official_loader.commit(reference_dir)[:7]}; this project "
             f"{machine.source_commit()}; {machine.one_line(machine.describe())}.", "",
             "The rounding control is a second copy of our model started from the official "
             f"weights times (1 + {CONTROL_PERTURBATION:g}); its columns give its gaps to our "
             "model: what a perturbation of a few float32 ulps does within one code.", ""]
    lines += text_tables.markdown(
        ["step", "official MSE", "our MSE", "relative MSE gap", "its rounding control",
         "weight gap", "its rounding control"],
        [[row["step"], f"{row['official_mse']:.6f}", f"{row['ours_mse']:.6f}",
          f"{row['mse_gap']:.1e}", f"{row['control_mse_gap']:.1e}", f"{row['weight_gap']:.1e}",
          f"{row['control_gap']:.1e}"] for row in rows])
    return "\n".join(lines) + "\n"


def define_flags() -> None:
    flags.DEFINE_string("reference_dir", None, "A checkout of the official ACAI code.")
    flags.DEFINE_enum("model", "vqvae", sorted(official_loader.SCRIPTS), "The model to match.")
    flags.DEFINE_integer("steps", 50, "Training steps of each code.", lower_bound=1)
    flags.DEFINE_integer("seed", 0, "Our data stream's seed.")
    flags.DEFINE_string("out", None, "Also write the rows as a Markdown page here.")
    flags.mark_flag_as_required("reference_dir")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    fv = flags.FLAGS
    logging.set_verbosity(logging.ERROR)  # TF1 deprecation notices on every official op
    with runner.one_line_errors():
        rows = match(fv.reference_dir, fv.model, fv.steps, fv.seed,
                     log=lambda line: print(line, flush=True))
        if fv.out:
            atomic_write.write_text(fv.out, markdown(rows, fv.model, fv.reference_dir))


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=runner.parse_or_exit)
