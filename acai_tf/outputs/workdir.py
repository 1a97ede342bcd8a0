"""The layout of a training workdir, and rebuilding a trained model from one.

    workdir/
      config.json      ExperimentConfig (written first; evaluate and export rebuild from it),
                       and under "runs" one record per start of train (machine, choices made)
      ckpt/            tf.train checkpoints `ckpt-<step>`: model and every optimizer;
                       ckpt/damaged/<time>/ holds any set aside as unreadable
                       (acai_tf.outputs.checkpoints)
      tb/train/        TensorBoard scalars and image grids
      metrics.jsonl    every report's scalars, one JSON line per report
                       (acai_tf.training.metrics_log)
      images/          PNG image grids, `<name>_<kimg:08.1f>.png`
      eval/            results of the evaluate binary
      .lock            held (flock) by the process training in the workdir: "<pid> <host>"
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from typing import Any, Iterator, Mapping, Sequence

from acai_tf.outputs import atomic_write
from acai_tf.config import CONFIG_FILENAME, ConfigError, ExperimentConfig
from acai_tf.errors import UserError

CHECKPOINT_DIR = "ckpt"
CHECKPOINT_PREFIX = "ckpt"
TENSORBOARD_DIR = "tb"
IMAGES_DIR = "images"
EVAL_DIR = "eval"
LOCK_FILENAME = ".lock"


class WorkdirError(UserError, RuntimeError):
    """A workdir is missing, incomplete or inconsistent; the message is one line."""


def config_path(workdir: str) -> str:
    return os.path.join(workdir, CONFIG_FILENAME)


def checkpoint_dir(workdir: str) -> str:
    return os.path.join(workdir, CHECKPOINT_DIR)


def load_config(workdir: str) -> ExperimentConfig:
    """Reads `workdir/config.json`; a missing or invalid file raises WorkdirError."""
    path = config_path(workdir)
    if not os.path.isfile(path):
        raise WorkdirError(f"{path} does not exist: is {workdir!r} a training workdir?")
    with open(path) as f:
        try:
            return ExperimentConfig.from_json(f.read())
        except ConfigError as error:
            raise WorkdirError(f"{path}: {error}") from None


def check_config(workdir: str, config: ExperimentConfig, resumable: Sequence[str] = ()) -> None:
    """Raises WorkdirError unless `workdir` is new or holds `config` (up to the TrainConfig
    fields in `resumable`); reads only."""
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise WorkdirError(f"workdir {workdir} exists and is not a directory")
    if not os.path.exists(config_path(workdir)):
        if os.path.exists(checkpoint_dir(workdir)):
            raise WorkdirError(f"workdir {workdir} holds checkpoints but no config.json; "
                               "use another workdir")
        return
    ignored = {f"train.{name}" for name in resumable}
    differences = [difference for name, difference in config_differences(
        load_config(workdir).to_resolved_dict(), config.to_resolved_dict()) if name not in ignored]
    if differences:
        raise WorkdirError(f"workdir {workdir} holds a different config ({'; '.join(differences)})"
                           "; use another workdir or the same config to resume")


def config_differences(saved: Mapping[str, Any], new: Mapping[str, Any],
                       prefix: str = "") -> list[tuple[str, str]]:
    """[(dotted field name, "name: old -> new")] for every field whose value differs; the
    model's hyperparameters compare as one value."""
    found = []
    for key in sorted(set(saved) | set(new)):
        name, old_value, new_value = prefix + key, saved.get(key), new.get(key)
        if isinstance(old_value, Mapping) and isinstance(new_value, Mapping) and key != "hparams":
            found += config_differences(old_value, new_value, name + ".")
        elif old_value != new_value:
            found.append((name, f"{name}: {old_value!r} -> {new_value!r}"))
    return found


def write_config(workdir: str, config: ExperimentConfig,
                 run_record: Mapping[str, Any] | None = None) -> None:
    """Writes config.json: the config, and the run records kept, with `run_record` appended."""
    data = json.loads(config.to_json())
    data["runs"] = load_run_records(workdir) + ([dict(run_record)] if run_record else [])
    atomic_write.write_text(config_path(workdir), json.dumps(data, indent=2, sort_keys=True) + "\n")


def load_run_records(workdir: str) -> list[dict]:
    """The run records of config.json (one per start of `train`: machine, gradient path, ...);
    [] when there is no config.json or it predates run records."""
    try:
        with open(config_path(workdir)) as f:
            return list(json.load(f).get("runs", []))
    except (OSError, ValueError, AttributeError):
        return []


def latest_checkpoint(workdir: str) -> str:
    """Path prefix of the newest checkpoint (readable or not); WorkdirError if there is none."""
    from acai_tf.outputs import checkpoints

    found = checkpoints.candidates(checkpoint_dir(workdir))
    if not found:
        raise WorkdirError(f"no checkpoint in {checkpoint_dir(workdir)}: train the model first")
    return found[0]


def checkpoint_step(path: str) -> int:
    """The training step a checkpoint path `.../ckpt-<step>` was written at."""
    return int(path.rsplit("-", 1)[-1])


def check_checkpoint(workdir: str, path: str) -> None:
    """Raises WorkdirError unless checkpoint `path` reads completely; the message names the
    damaged file and the workdir's readable checkpoints, to pass as --checkpoint instead."""
    from acai_tf.outputs import checkpoints

    try:
        checkpoints.check_readable(path)
    except checkpoints.DamagedCheckpoint as error:
        others = checkpoints.readable(checkpoint_dir(workdir))
        instead = (f"readable checkpoints: {', '.join(others)} (pass one with --checkpoint)"
                   if others else f"no readable checkpoint in {checkpoint_dir(workdir)}")
        raise WorkdirError(f"{error}; {instead}") from None


def restore_model(workdir: str, checkpoint: str | None = None):
    """Rebuilds the model of a workdir and restores its weights (no optimizer state).

    Args:
        workdir: a training workdir.
        checkpoint: a checkpoint path prefix; default the latest in `workdir/ckpt`.

    Returns:
        (model, ExperimentConfig, checkpoint path, step).

    Raises:
        WorkdirError: no config, no such checkpoint, or a damaged one (see check_checkpoint).
    """
    import tensorflow as tf

    from acai_tf import models

    config = load_config(workdir)
    path = checkpoint or latest_checkpoint(workdir)
    if checkpoint and not any(os.path.exists(path + suffix)
                              for suffix in (".index", ".data-00000-of-00001")):
        raise WorkdirError(f"checkpoint {path} does not exist")  # a mistyped --checkpoint
    check_checkpoint(workdir, path)
    model = models.build(config.model, seed=config.train.seed)
    tf.train.Checkpoint(model=model).restore(path).expect_partial().assert_existing_objects_matched()
    return model, config, path, checkpoint_step(path)


def checkpoint_manager(workdir: str, checkpoint, max_to_keep: int = 5):
    """The CheckpointManager every writer of `workdir/ckpt` uses (files `ckpt-<step>`).

    Save with `manager.save(checkpoint_number=step)` so that paths carry the training step.
    """
    import tensorflow as tf

    return tf.train.CheckpointManager(checkpoint, checkpoint_dir(workdir), max_to_keep,
                                      checkpoint_name=CHECKPOINT_PREFIX)


@contextlib.contextmanager
def locked(workdir: str) -> Iterator[None]:
    """Holds the workdir's writer lock for the block; WorkdirError at once if another has it.

    One process at a time may train in a workdir: two would interleave checkpoints, summaries
    and image files. The lock is an flock on `workdir/.lock`, so the kernel releases it when
    its holder exits in any way, SIGKILL included: a crashed run never blocks its own resume.
    The holder writes "<pid> <hostname>" into the file for the refusal message. Creates
    `workdir` if needed. flock is only as reliable as the file system's support for it (local
    disks are fine; some network file systems ignore it).
    """
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, LOCK_FILENAME)
    # "a+" rather than "w": truncating before holding the lock would erase the holder's name.
    with open(path, "a+", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            raise WorkdirError(f"workdir {workdir} is in use by {_holder(f.read())}; wait for "
                               "it to end or use another workdir") from None
        try:
            f.seek(0)
            f.truncate()
            f.write(f"{os.getpid()} {socket.gethostname()}\n")
            f.flush()
            yield
        finally:
            f.truncate(0)  # A stale name would mislead whoever reads the file by hand.
            fcntl.flock(f, fcntl.LOCK_UN)


def _holder(content: str) -> str:
    """Describes the lock holder from the lock file's "<pid> <host>" content."""
    fields = content.split()
    if len(fields) == 2 and fields[0].isdigit():
        return f"process {fields[0]} on {fields[1]}"
    # The holder has the lock but has not written its name yet.
    return "another process"
