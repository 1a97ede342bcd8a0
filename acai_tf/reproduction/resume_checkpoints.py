"""A long run's newest checkpoint saved beside its records, and a lost workdir rebuilt from them.

`save_checkpoint` copies a workdir's newest checkpoint (model, critic and every optimizer slot)
into RECORDS/<name>/resume/ with a manifest of its sizes and SHA-256 sums, replacing the one
saved before only once the copy reads back; `restore` rebuilds the lost workdir (config, reports,
checkpoint) from those files, so that the run's command resumes it instead of restarting it
from step 0. The command is `benchmarks/long_runs.py`; `long_runs` saves the records.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from typing import Any

from acai_tf.errors import UserError
from acai_tf.outputs import atomic_write, checkpoints
from acai_tf.outputs import workdir as workdir_lib

# What is saved of a run: small text records (the tables and curves read them).
RECORD_FILES = ("config.json", "metrics.jsonl", os.path.join("eval", "results.json"))
RESUME_DIR = "resume"
RESUME_MANIFEST = "resume.json"
# The checkpoint state file CheckpointManager writes once a checkpoint is complete.
CHECKPOINT_STATE = "checkpoint"
KIMG = 1024  # images per kimg, as the trainer counts them


class RecordsError(UserError, RuntimeError):
    """Records cannot be saved as asked; the message is one line."""


def newest_checkpoint(workdir: str) -> str | None:
    """The prefix name ("ckpt-<step>") of the newest complete checkpoint in workdir/ckpt, as its
    checkpoint state file names it; None without one.

    Read as text rather than with tf.train.latest_checkpoint: saving records imports no
    TensorFlow."""
    try:
        with open(os.path.join(workdir, workdir_lib.CHECKPOINT_DIR, CHECKPOINT_STATE),
                  encoding="utf-8") as f:
            match = re.search(r'^model_checkpoint_path: "(?:.*/)?([^"/]+)"$', f.read(), re.M)
    except FileNotFoundError:
        return None
    return match[1] if match else None


def checkpoint_files(folder: str, prefix: str) -> list[str]:
    """The files of checkpoint `prefix` in folder: its .index and every data shard, sorted."""
    return sorted(name for name in os.listdir(folder) if name == f"{prefix}.index"
                  or re.fullmatch(re.escape(prefix) + r"\.data-\d+-of-\d+", name))


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(records: str) -> dict[str, Any] | None:
    """records/resume/resume.json, or None when no checkpoint was saved with these records."""
    path = os.path.join(records, RESUME_DIR, RESUME_MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        if not all(key in manifest for key in ("workdir", "checkpoint", "step", "kimg", "files")):
            raise ValueError
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        raise RecordsError(f"{path} is not a checkpoint manifest written by this command") from None
    return manifest


def save_checkpoint(workdir: str, destination: str, workdir_name: str) -> int | None:
    """Copies workdir's newest checkpoint into destination/resume/, replacing the one there.

    Args:
        workdir: the run's workdir.
        destination: its records folder.
        workdir_name: the workdir's path below the runs root, e.g. "lines/runs/acai/seed0",
            where `restore` rebuilds it.

    Returns:
        The checkpoint's step when it was copied; None when the workdir has no checkpoint or the
        saved one is already the newest (nothing is rewritten, so git sees no change).
    """
    prefix = newest_checkpoint(workdir)
    saved = read_manifest(destination)
    if prefix is None or (saved and saved["checkpoint"] == prefix):
        return None
    source = os.path.join(workdir, workdir_lib.CHECKPOINT_DIR)
    with open(os.path.join(workdir, "config.json"), encoding="utf-8") as f:
        batch = int(json.load(f)["train"]["batch"])
    step = workdir_lib.checkpoint_step(prefix)
    staging = tempfile.mkdtemp(prefix=f".{RESUME_DIR}.", dir=destination)
    try:
        files = {}
        for name in checkpoint_files(source, prefix):
            shutil.copyfile(os.path.join(source, name), os.path.join(staging, name))
            digest = sha256(os.path.join(staging, name))
            if digest != sha256(os.path.join(source, name)):
                raise RecordsError(f"the copy of {os.path.join(source, name)} differs from it "
                                   f"(SHA-256); {destination}/{RESUME_DIR} was kept")
            files[name] = {"bytes": os.path.getsize(os.path.join(staging, name)),
                           "sha256": digest}
        # Read the copy back, every tensor against its checksum, before it replaces the copy
        # saved earlier: a damaged newest checkpoint must not cost the good one.
        _check_readable(os.path.join(staging, prefix), f"{destination}/{RESUME_DIR} was kept")
        manifest = {"workdir": workdir_name, "checkpoint": prefix, "step": step,
                    "kimg": step * batch / KIMG, "files": files}
        atomic_write.write_text(os.path.join(staging, RESUME_MANIFEST),
                                json.dumps(manifest, indent=2) + "\n")
        os.chmod(staging, 0o755)
        resume = os.path.join(destination, RESUME_DIR)
        if os.path.isdir(resume):
            os.rename(resume, staging + ".old")
        os.rename(staging, resume)
        shutil.rmtree(staging + ".old", ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return step


def _check_readable(path: str, consequence: str) -> None:
    """RecordsError "<damaged file and cause>; <consequence>" unless checkpoint `path` reads."""
    try:
        checkpoints.check_readable(path)
    except checkpoints.DamagedCheckpoint as error:
        raise RecordsError(f"{error}; {consequence}") from None


def restore(records_dir: str, runs_dir: str, name: str) -> tuple[str, int]:
    """Rebuilds the lost workdir of record `name` from its records and saved checkpoint.

    Returns:
        (the workdir, the checkpoint's step); rerunning the run's command resumes from there.

    Raises:
        RecordsError: no saved checkpoint, a damaged one, or a workdir already in its place
            (nothing is overwritten).
    """
    records = os.path.join(records_dir, name)
    manifest = read_manifest(records)
    if manifest is None:
        raise RecordsError(f"{records} holds no saved checkpoint ({RESUME_DIR}/{RESUME_MANIFEST}):"
                           " save one with --checkpoints while the workdir exists")
    relative = os.path.normpath(manifest["workdir"])
    if os.path.isabs(relative) or relative.split(os.sep)[0] == os.pardir:
        raise RecordsError(f"{records}: workdir {manifest['workdir']!r} is not below the runs dir")
    workdir = os.path.join(runs_dir, relative)
    if os.path.exists(workdir):
        raise RecordsError(f"{workdir} exists: restoring {name} would overwrite it")
    for file_name, expected in sorted(manifest["files"].items()):
        path = os.path.join(records, RESUME_DIR, file_name)
        if not os.path.isfile(path) or sha256(path) != expected["sha256"]:
            raise RecordsError(f"{path} is missing or damaged (SHA-256 differs from "
                               f"{RESUME_MANIFEST}): cannot restore {name}")
    _check_readable(os.path.join(records, RESUME_DIR, manifest["checkpoint"]),
                    f"cannot restore {name}")
    os.makedirs(os.path.dirname(workdir), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(workdir)}.restoring.",
                               dir=os.path.dirname(workdir))
    try:
        for relative_file in RECORD_FILES:
            if os.path.isfile(os.path.join(records, relative_file)):
                os.makedirs(os.path.dirname(os.path.join(staging, relative_file)), exist_ok=True)
                shutil.copyfile(os.path.join(records, relative_file),
                                os.path.join(staging, relative_file))
        checkpoints = os.path.join(staging, workdir_lib.CHECKPOINT_DIR)
        os.makedirs(checkpoints)
        for file_name in manifest["files"]:
            shutil.copyfile(os.path.join(records, RESUME_DIR, file_name),
                            os.path.join(checkpoints, file_name))
        prefix = manifest["checkpoint"]
        atomic_write.write_text(os.path.join(checkpoints, CHECKPOINT_STATE),
                                f'model_checkpoint_path: "{prefix}"\n'
                                f'all_model_checkpoint_paths: "{prefix}"\n')
        os.chmod(staging, 0o755)
        os.rename(staging, workdir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return workdir, int(manifest["step"])
