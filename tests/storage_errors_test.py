"""A save that fails with an OS error ends the process with one line naming the path, and loses
nothing: the previous checkpoint and records stay intact and the same command resumes.

The real failures come from a small tmpfs (mounting one needs root, which the test machines and
CI have; elsewhere those tests skip and the simulated ones below still run).
"""

import contextlib
import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tensorflow as tf

from acai_tf import errors
from acai_tf.outputs import checkpoints
from acai_tf.training import callbacks, metrics_log
from acai_tf.evaluation import results as results_lib

import python_process
import tiny

REPO_ROOT = Path(__file__).absolute().parents[1]
TRAIN_ARGS = ["--model=acai", "--dataset=lines32", *tiny.MODEL_FLAGS, "--batch=16",
              "--report_kimg=0.25"]
TIMEOUT = 300
PAGE = 4096


@contextlib.contextmanager
def small_disk(path: Path, size: int):
    """A tmpfs of `size` bytes mounted at `path` for the block."""
    path.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); the simulated failures still run")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, leave: int = 0) -> None:
    """Fills `disk` up to `leave` free bytes."""
    free = shutil.disk_usage(disk).free - leave
    if free > 0:
        with open(disk / "filler", "wb") as f:
            with contextlib.suppress(OSError):
                f.write(b"\0" * free)


def _run(module: str, *args: str) -> subprocess.CompletedProcess:
    env = python_process.env(REPO_ROOT)
    env.pop("TF_CONFIG", None)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    return line


# Real failures ----------------------------------------------------------------------------------

def test_metrics_append_on_a_full_disk(tmp_path):
    with small_disk(tmp_path / "disk", 16 * PAGE) as disk:
        metrics_log.append(str(disk), 16, 0.25, {"losses/ae": 1.0})
        fill(disk)
        before = (disk / "metrics.jsonl").read_bytes()
        with pytest.raises(errors.StorageError,
                           match=f"^cannot write {disk}/metrics.jsonl: No space left on device$"):
            # Longer than the page the file's first line already occupies.
            metrics_log.append(str(disk), 32, 0.5, {f"eval/m{i}": 0.5 for i in range(500)})
        # Whatever part of the line reached the disk, the next append after the cause is fixed
        # starts a new line, and the earlier reports read back as they were.
        os.remove(disk / "filler")
        assert (disk / "metrics.jsonl").read_bytes().startswith(before)
        metrics_log.append(str(disk), 32, 0.5, {"losses/ae": 0.5})
        assert [r["step"] for r in metrics_log.read(str(disk))] == [16, 32]


def test_results_json_on_a_full_disk(tmp_path):
    with small_disk(tmp_path / "disk", 16 * PAGE) as disk:
        results_lib.write(str(disk), {"step": 1})
        fill(disk)
        with pytest.raises(errors.StorageError, match=r"^cannot write .*/eval/results.json: No "
                                                      "space left on device$"):
            results_lib.write(str(disk), {"step": 2, "padding": "x" * 3 * PAGE})
        assert json.loads((disk / "eval" / "results.json").read_text())["step"] == 1
        assert os.listdir(disk / "eval") == ["results.json"]  # no temporary file left


def test_checkpoint_save_on_a_full_disk_then_the_same_command_resumes(tmp_path):
    workdir = tmp_path / "run"
    result = _run("flags.train", *TRAIN_ARGS, "--train_kimg=0.5", f"--workdir={workdir}")
    assert result.returncode == 0, result.stderr
    # The checkpoints move to a disk with room for a few pages more than they use, less than
    # one more checkpoint needs.
    ckpt = workdir / "ckpt"
    used = sum(-(-path.stat().st_size // PAGE) * PAGE for path in ckpt.iterdir())
    with small_disk(tmp_path / "disk", used + 4 * PAGE) as disk:
        shutil.copytree(ckpt, disk / "ckpt")
        shutil.rmtree(ckpt)
        ckpt.symlink_to(disk / "ckpt")
        before = sorted(os.listdir(ckpt))
        records = (workdir / "metrics.jsonl").read_text()

        result = _run("flags.train", *TRAIN_ARGS, "--train_kimg=0.75", f"--workdir={workdir}")
        line = _one_error_line(result)
        assert re.fullmatch(rf"error: cannot write {ckpt}/ckpt-48: .*No space left on device",
                            line), line
        assert sorted(os.listdir(ckpt)) == before  # no half-written checkpoint left behind
        checkpoints.check_readable(f"{ckpt}/ckpt-32")
        assert '"ckpt-32"' in (ckpt / "checkpoint").read_text().splitlines()[0]
        assert (workdir / "metrics.jsonl").read_text().startswith(records)

        # The cause fixed (the checkpoints back on a disk with room), the same command resumes.
        ckpt.unlink()
        shutil.copytree(disk / "ckpt", ckpt)
    result = _run("flags.train", *TRAIN_ARGS, "--train_kimg=0.75", f"--workdir={workdir}")
    assert result.returncode == 0, result.stderr
    assert re.search(r"resuming acai .* from step 32 to 48", result.stdout), result.stdout
    assert re.search(r"^done: step 48 ", result.stdout, re.MULTILINE), result.stdout
    assert [r["step"] for r in metrics_log.read(str(workdir))] == [16, 32, 48]


def test_export_on_a_full_disk(tmp_path):
    workdir = tmp_path / "run"
    result = _run("flags.train", *TRAIN_ARGS, "--train_kimg=0.25", f"--workdir={workdir}")
    assert result.returncode == 0, result.stderr
    with small_disk(tmp_path / "exports", 4 * PAGE) as export_dir:
        result = _run("export.export_saved_model", f"--workdir={workdir}",
                      f"--export_dir={export_dir}")
        line = _one_error_line(result)
        assert re.fullmatch(rf"error: cannot write {export_dir}/acai/1: .*No space left on "
                            "device", line), line
        assert os.listdir(export_dir / "acai") == []  # the half-written version is gone


# Simulated failures (no mount needed) -----------------------------------------------------------

def test_metrics_append_simulated_enospc(tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(errors.StorageError,
                       match=f"^cannot write {tmp_path}/metrics.jsonl: No space left on device$"):
        metrics_log.append(str(tmp_path), 16, 0.25, {"losses/ae": 1.0})


def test_a_line_cut_short_costs_only_itself(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"step": 16, "kimg": 0.25}\n{"step": 32, "ki')
    metrics_log.append(str(tmp_path), 32, 0.5, {"losses/ae": 0.5})
    assert metrics_log.read(str(tmp_path)) == [{"step": 16, "kimg": 0.25},
                                               {"step": 32, "kimg": 0.5, "losses/ae": 0.5}]


def test_checkpointer_turns_a_tensorflow_write_error_into_one_line(tmp_path, monkeypatch):
    checkpoint = tf.train.Checkpoint(v=tf.Variable(1.0))
    checkpointer = callbacks.Checkpointer(checkpoint, str(tmp_path))
    checkpointer.save(16)

    def failing_save(self, checkpoint_number=None, **kwargs):
        os.makedirs(f"{tmp_path}/ckpt/ckpt-{checkpoint_number}_temp")
        raise tf.errors.ResourceExhaustedError(
            None, None, "{{function_node __wrapped__SaveV2}} x.tempstate; No space left on "
            "device [Op:SaveV2]")

    monkeypatch.setattr(tf.train.CheckpointManager, "save", failing_save)
    with pytest.raises(errors.StorageError) as raised:
        checkpointer.save(32)
    assert str(raised.value) == (f"cannot write {tmp_path}/ckpt/ckpt-32: x.tempstate; No space "
                                 "left on device")
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["checkpoint", "ckpt-16.data-00000-of-00001",
                                                     "ckpt-16.index"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
