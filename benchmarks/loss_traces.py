"""Per-step loss traces of real training runs, and what the loss-explosion rule makes of them.

    python benchmarks/loss_traces.py --out_dir=out/loss_traces --train_kimg=64 \
        --runs=baseline,dropout,denoising,vae,aae,vqvae,acai,acai:0.001

Each run trains the paper's lines32 network (flags/runs/lines32_<model>.flags; `model:lr`
overrides the learning rate) without evaluations, records every `losses/*` value of every step
in `<out_dir>/<run>.npz`, then replays the traces through `explosion.ExplosionRule` with the
default settings and prints, per run and loss, the largest ratio of the windowed mean to its
reference level once warm: the margin the default factor leaves (`--replay_only` re-reads the
saved traces). This is the evidence behind `explosion.DEFAULT_FACTOR`; it was gathered with
`--train_kimg=40` for the seven models and 64 for `acai:0.001` (which blows up at 49 kimg).
"""

from __future__ import annotations

import os
import sys

# Run as a script, only benchmarks/ is on sys.path; the library lives at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
from absl import app
from absl import flags

from acai_tf import explosion
from acai_tf.outputs import atomic_write

_OUT_DIR = flags.DEFINE_string("out_dir", "out/loss_traces", "Where the .npz traces go.")
_TRAIN_KIMG = flags.DEFINE_float("train_kimg", 64, "Length of each run.")
_RUNS = flags.DEFINE_list("runs", "baseline,dropout,denoising,vae,aae,vqvae,acai",
                          "Models to run; `model:lr` sets the learning rate.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of every run.")
_REPLAY_ONLY = flags.DEFINE_bool("replay_only", False, "Only replay the saved traces.")
_RECORD_ONLY = flags.DEFINE_bool("record_only", False, "Only record the traces.")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(run: str):
    import dataclasses

    from acai_tf.cli import flag_defs

    model, _, lr = run.partition(":")
    values = flags.FlagValues()
    flag_defs.define_flags(values)
    values([sys.argv[0], f"--flagfile={REPO_ROOT}/flags/runs/lines32_{model}.flags",
            f"--train_kimg={_TRAIN_KIMG.value}", f"--report_kimg={_TRAIN_KIMG.value}",
            f"--seed={_SEED.value}", "--workdir=unused"] + ([f"--lr={lr}"] if lr else []))
    config = flag_defs.config_from_flags(values)
    # The rule is switched off here: the point is to record what a run does unguarded.
    return dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                 **_unguarded()))


def _unguarded() -> dict:
    from acai_tf.config import TrainConfig

    return {"explosion_factor": 0.0} if hasattr(TrainConfig(), "explosion_factor") else {}


def record(run: str, path: str) -> None:
    """Trains `run` in a fresh workdir next to `path` and saves its per-step losses there."""
    import shutil

    import keras
    import numpy as np

    from acai_tf.training import callbacks, train_lib

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.steps = explosion.StepValues()
            self.rows = {}

        def on_epoch_begin(self, epoch, logs=None):
            self.steps.reset()

        def on_train_batch_end(self, batch, logs=None):
            for key, value in self.steps.update(callbacks.scalar_logs(logs)).items():
                self.rows.setdefault(key, []).append(value)

    recorder = Recorder()
    workdir = path[:-len(".npz")] + "_workdir"
    shutil.rmtree(workdir, ignore_errors=True)
    train_lib.train(_config(run), workdir, eval_settings=None, extra_callbacks=[recorder],
                    log=print)
    with atomic_write.replacing(path, "wb") as f:
        np.savez(f, **{key: np.asarray(values) for key, values in recorder.rows.items()})
    shutil.rmtree(workdir, ignore_errors=True)


def replay(path: str) -> dict[str, tuple[float, int, int | None]]:
    """{loss: (largest ratio once warm, its step, step of its first trip or None)} of a saved
    trace under the default settings (the replay goes on after a trip)."""
    import numpy as np

    traces = dict(np.load(path))
    rule = explosion.ExplosionRule()
    worst = {key: (0.0, -1) for key in traces}
    tripped: dict[str, int] = {}
    for step in range(min(len(values) for values in traces.values())):
        rule.update({key: float(values[step]) for key, values in traces.items()})
        for key, ratio in rule.ratios().items():
            if ratio > worst[key][0]:
                worst[key] = (ratio, step + 1)
        trip = rule.check()
        if trip is not None:
            tripped.setdefault(trip.key, step + 1)
    return {key: (*worst[key], tripped.get(key)) for key in traces}


def main(argv: list[str]) -> None:
    del argv
    os.makedirs(_OUT_DIR.value, exist_ok=True)
    for run in _RUNS.value:
        path = os.path.join(_OUT_DIR.value, f"{run.replace(':', '_lr')}.npz")
        if not _REPLAY_ONLY.value:
            record(run, path)
        if _RECORD_ONLY.value:
            continue
        for key, (ratio, step, tripped) in sorted(replay(path).items()):
            print(f"{run:14s} {key:24s} max ratio {ratio:8.3g} at step {step:5d}"
                  f"{f'  tripped at step {tripped}' if tripped else ''}", flush=True)


if __name__ == "__main__":
    app.run(main)
