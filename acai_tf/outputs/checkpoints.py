"""A workdir's checkpoints: which exist, which can be read, and setting damaged ones aside.

    path = checkpoints.resume_point(workdir, log=print)   # training: newest readable, or None
    checkpoints.check_readable(path)                      # evaluate/export: DamagedCheckpoint

A checkpoint `ckpt/ckpt-<step>` is an index file and data shards. A machine that dies while
writing one, a full disk or a bad copy leaves it truncated, garbled or incomplete, and
TensorFlow's reader then fails deep inside a restore. Here a checkpoint counts as readable only
when its index parses and every tensor it lists reads back with a matching checksum (TensorFlow
stores a CRC32C per tensor), so damage is found before anything is restored.

Training falls back: `resume_point` moves every damaged checkpoint newer than the newest
readable one into `ckpt/damaged/<when>/` (never deleted: it is the evidence), rewrites the
`ckpt/checkpoint` state file to name what is left, and says so in one line. The evaluate and
export binaries do not fall back: a damaged checkpoint is an error naming the file and the
readable checkpoints to pass with `--checkpoint` instead.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from typing import Callable

from acai_tf.errors import UserError

STATE_FILENAME = "checkpoint"
DAMAGED_DIR = "damaged"
_NAME = re.compile(r"(ckpt-(\d+))(?:\.index|\.data-\d+-of-\d+)")
_STATE_ENTRY = re.compile(r'^(?:all_)?model_checkpoint_path: "(?:.*/)?(ckpt-\d+)"$', re.M)


class DamagedCheckpoint(UserError, RuntimeError):
    """A checkpoint cannot be read; `.file` is the file at fault, `.reason` says how."""

    def __init__(self, file: str, reason: str):
        super().__init__(f"checkpoint file {file} is damaged: {reason}")
        self.file, self.reason = file, reason


def step_of(path: str) -> int:
    """The training step of a checkpoint path `.../ckpt-<step>`."""
    return int(path.rsplit("-", 1)[-1])


def candidates(directory: str) -> list[str]:
    """Path prefixes of every checkpoint in `directory`, newest first: those with any file on
    disk and those the state file names (which may have no files left)."""
    names = set()
    try:
        listing = os.listdir(directory)
    except FileNotFoundError:
        return []
    for file_name in listing:
        match = _NAME.fullmatch(file_name)
        if match:
            names.add(match[1])
    names.update(_STATE_ENTRY.findall(_read_state(directory)))
    return [os.path.join(directory, name) for name in sorted(names, key=step_of, reverse=True)]


def check_readable(path: str) -> None:
    """Reads every tensor of checkpoint `path`; raises DamagedCheckpoint naming the bad file."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    index = path + ".index"
    if not os.path.isfile(index):
        raise DamagedCheckpoint(index, "it is missing")
    try:
        reader = tf.train.load_checkpoint(path)
    except (tf.errors.OpError, ValueError, IndexError) as error:
        raise DamagedCheckpoint(index, _first_line(error)) from None
    shards = sorted(name for name in os.listdir(os.path.dirname(path) or ".")
                    if name.startswith(os.path.basename(path) + ".data-"))
    data = os.path.join(os.path.dirname(path), shards[0]) if shards else path + ".data-*"
    try:
        for key in reader.get_variable_to_dtype_map():
            reader.get_tensor(key)
    except (tf.errors.OpError, ValueError, IndexError) as error:
        reason = "it is missing" if not shards else _first_line(error)
        raise DamagedCheckpoint(data, reason) from None


def readable(directory: str) -> list[str]:
    """The readable checkpoints of `directory`, newest first (reads every candidate)."""
    found = []
    for path in candidates(directory):
        try:
            check_readable(path)
        except DamagedCheckpoint:
            continue
        found.append(path)
    return found


def resume_point(directory: str, *, move_damaged: bool = True,
                 log: Callable[[str], None] = print) -> str | None:
    """The newest readable checkpoint to resume training from; None when there is none at all.

    Damaged checkpoints newer than it are moved into `directory/damaged/<UTC time>/` and the
    state file is rewritten to name the checkpoints left (when `move_damaged`: the chief of a
    multi-worker run moves, the other workers only choose). One line is logged per fallback.

    Raises:
        UserError: checkpoints exist but none is readable; every file stays where it was.
    """
    damaged: list[DamagedCheckpoint] = []
    for path in candidates(directory):
        try:
            check_readable(path)
        except DamagedCheckpoint as error:
            damaged.append(error)
            continue
        if damaged:
            names = ", ".join(os.path.basename(_prefix(error.file)) for error in damaged)
            where = (_set_aside(directory, [_prefix(error.file) for error in damaged], keep=path)
                     if move_damaged else os.path.join(directory, DAMAGED_DIR))
            log(f"damaged checkpoint {names} ({damaged[0]}) moved to {where}; resuming from "
                f"step {step_of(path)} ({os.path.basename(path)})")
        return path
    if damaged:
        raise UserError(f"no readable checkpoint in {directory} ({len(damaged)} damaged, newest: "
                        f"{damaged[0]}); nothing was moved: restore the folder from a copy or "
                        "train in a new workdir")
    return None


def _set_aside(directory: str, prefixes: list[str], keep: str) -> str:
    """Moves the files of `prefixes` (and a copy of the state file) into a new damaged/
    subfolder, which it returns, then writes a state file naming `keep` and the older
    checkpoints still on disk."""
    from acai_tf.outputs import atomic_write  # pylint: disable=import-outside-toplevel

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    destination, attempt = os.path.join(directory, DAMAGED_DIR, stamp), 1
    while os.path.exists(destination):  # a second fallback within the same second
        attempt += 1
        destination = os.path.join(directory, DAMAGED_DIR, f"{stamp}-{attempt}")
    os.makedirs(destination)
    names = {os.path.basename(prefix) for prefix in prefixes}
    for file_name in os.listdir(directory):
        match = _NAME.fullmatch(file_name)
        if (match and match[1] in names) or file_name == STATE_FILENAME:
            move = shutil.copy2 if file_name == STATE_FILENAME else shutil.move
            move(os.path.join(directory, file_name), os.path.join(destination, file_name))
    kept = [os.path.basename(path) for path in reversed(candidates(directory))
            if os.path.isfile(path + ".index") and step_of(path) <= step_of(keep)]
    atomic_write.write_text(
        os.path.join(directory, STATE_FILENAME),
        f'model_checkpoint_path: "{os.path.basename(keep)}"\n'
        + "".join(f'all_model_checkpoint_paths: "{name}"\n' for name in kept))
    return destination


def _prefix(file: str) -> str:
    """The checkpoint prefix of one of its files (`.../ckpt-7.index` -> `.../ckpt-7`)."""
    return re.sub(r"\.(index|data-[^/]*)$", "", file)


def _read_state(directory: str) -> str:
    try:
        with open(os.path.join(directory, STATE_FILENAME), encoding="utf-8",
                  errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _first_line(error: BaseException) -> str:
    text = (getattr(error, "message", None) or str(error) or type(error).__name__).strip()
    return text.splitlines()[0] if text else type(error).__name__
