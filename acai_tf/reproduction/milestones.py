"""Checkpoints kept at fixed steps of a long run, and their evaluation, for Table 3's curve.

A run's checkpoint manager keeps only its last few checkpoints, so the ones the tables need at
fixed steps (1,024 and 4,096 kimg: steps 16,384 and 65,536 at batch 64) are copied, while the
run trains, into

    <workdir>/milestones/ckpt-<step>.{index, data-00000-of-00001}

and each is evaluated once into `<workdir>/milestones/ckpt-<step>.json` (the `eval/results.json`
of that checkpoint). `benchmarks/long_runs.py` saves those JSON files with the run's records.

A checkpoint is copied only once the manager's state file names it, i.e. once TensorFlow has
finished writing it; the copy goes through a temporary folder, so `milestones/` only ever holds
whole checkpoints. Nothing here imports TensorFlow: the campaign loop that calls it stays light,
and the evaluation runs as its own process (`evaluation_command`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
from typing import Sequence

from acai_tf import errors
from acai_tf.outputs import atomic_write

MILESTONES_DIR = "milestones"
# At batch 64: 1,024 and 4,096 kimg. The last checkpoint (16,384 kimg) is the run's own final
# evaluation's.
DEFAULT_STEPS = (16_384, 65_536)
# Where the evaluation of a kept checkpoint runs: a view of the run holding its config and that
# checkpoint alone, so that the run's own eval/ and TensorBoard folders are left untouched.
SCRATCH_DIR = "eval-scratch"


def checkpoint_prefix(workdir: str, step: int) -> str:
    """The kept checkpoint's path prefix: <workdir>/milestones/ckpt-<step>."""
    return os.path.join(workdir, MILESTONES_DIR, f"ckpt-{step}")


def results_path(workdir: str, step: int) -> str:
    """Where the kept checkpoint's evaluation is saved."""
    return checkpoint_prefix(workdir, step) + ".json"


def _names_checkpoint(workdir: str, step: int) -> bool:
    """Whether the checkpoint manager's state file lists ckpt-<step> (its write is complete)."""
    try:
        with open(os.path.join(workdir, "ckpt", "checkpoint"), encoding="utf-8") as f:
            state = f.read()
    except OSError:
        return False
    return f'ckpt-{step}"' in state


def keep(workdir: str, steps: Sequence[int] = DEFAULT_STEPS) -> list[int]:
    """Copies each of `steps`' checkpoints not yet kept into <workdir>/milestones/.

    Returns:
        The steps kept by this call.

    Raises:
        StorageError: a copy failed (the partial copy is removed).
    """
    kept = []
    for step in steps:
        source = os.path.join(workdir, "ckpt", f"ckpt-{step}")
        files = sorted(glob.glob(source + ".*"))
        if (os.path.exists(checkpoint_prefix(workdir, step) + ".index")
                or not os.path.exists(source + ".index") or not _names_checkpoint(workdir, step)):
            continue
        folder = os.path.join(workdir, MILESTONES_DIR)
        temporary = os.path.join(workdir, f".{MILESTONES_DIR}-{step}.tmp")
        with errors.saving(folder):
            shutil.rmtree(temporary, ignore_errors=True)
            try:
                os.makedirs(temporary)
                for path in files:
                    shutil.copy2(path, temporary)
                os.makedirs(folder, exist_ok=True)
                # The index last: a kept checkpoint counts once its index is in place.
                names = sorted(os.listdir(temporary), key=lambda name: name.endswith(".index"))
                for name in names:
                    os.replace(os.path.join(temporary, name), os.path.join(folder, name))
            finally:
                shutil.rmtree(temporary, ignore_errors=True)
        kept.append(step)
    return kept


def unevaluated(workdir: str) -> list[int]:
    """The steps of the kept checkpoints that have no saved evaluation yet, in order."""
    steps = []
    for index in glob.glob(os.path.join(workdir, MILESTONES_DIR, "ckpt-*.index")):
        step = int(os.path.basename(index)[len("ckpt-"):-len(".index")])
        if not os.path.exists(results_path(workdir, step)):
            steps.append(step)
    return sorted(steps)


def prepare_evaluation(workdir: str, step: int) -> str:
    """Builds the scratch view of the run for evaluating its kept ckpt-<step>; returns it.

    The view holds a copy of config.json and hard links (copies across file systems) of the
    kept checkpoint's files in ckpt/.
    """
    scratch = os.path.join(workdir, MILESTONES_DIR, SCRATCH_DIR, f"ckpt-{step}")
    with errors.saving(scratch):
        shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(os.path.join(scratch, "ckpt"))
        shutil.copy2(os.path.join(workdir, "config.json"), scratch)
        for path in glob.glob(checkpoint_prefix(workdir, step) + ".*"):
            if path.endswith(".json"):
                continue
            target = os.path.join(scratch, "ckpt", os.path.basename(path))
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)
    return scratch


def evaluation_command(scratch: str, *, n_init: int = 20) -> list[str]:
    """The evaluate binary's arguments (after the Python executable) for a prepared view.

    The probe and K-means as in the tables (classifier and clustering parts); `n_init` K-means
    restarts (the paper's 1,000 are for the final checkpoint; 20 keep a curve point to minutes).
    """
    return ["-m", "flags.evaluate", f"--workdir={scratch}", "--parts=classifier,clustering",
            f"--n_init={n_init}"]


def finish_evaluation(workdir: str, step: int) -> str:
    """Saves the view's eval/results.json as milestones/ckpt-<step>.json, removes the view.

    Raises:
        FileNotFoundError: the evaluation wrote no results (the view is kept to look into).
    """
    scratch = os.path.join(workdir, MILESTONES_DIR, SCRATCH_DIR, f"ckpt-{step}")
    with open(os.path.join(scratch, "eval", "results.json"), encoding="utf-8") as f:
        text = f.read()
    atomic_write.write_text(results_path(workdir, step), text)
    shutil.rmtree(scratch, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.rmdir(os.path.join(workdir, MILESTONES_DIR, SCRATCH_DIR))  # only if empty
    return results_path(workdir, step)

