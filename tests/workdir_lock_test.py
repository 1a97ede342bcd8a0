"""One writer per workdir: a second run on a workdir in use is refused at once, in one line.

The unit tests take the lock in this process; the end-to-end test runs `python -m flags.train`
three times on one workdir: a long run, a second run while it trains (refused), and, after the
first is killed with SIGKILL, a third that resumes.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tensorflow as tf

from acai_tf.outputs import workdir as workdir_lib

import python_process
import tiny

REPO_ROOT = Path(__file__).absolute().parents[1]
# Batch 16 and a checkpoint every 16 steps; 100 kimg (6,400 steps) outlasts the test.
ARGS = ["--model=baseline", "--dataset=lines32", *tiny.MODEL_FLAGS, "--batch=16",
        "--report_kimg=0.25"]
TIMEOUT = 240


def test_a_held_lock_refuses_a_second_holder_naming_the_first(tmp_path):
    workdir = str(tmp_path / "run")
    with workdir_lib.locked(workdir):
        content = (tmp_path / "run" / ".lock").read_text()
        assert content == f"{os.getpid()} {socket.gethostname()}\n"
        with pytest.raises(workdir_lib.WorkdirError) as error:
            with workdir_lib.locked(workdir):
                pass
    assert str(error.value) == (
        f"workdir {workdir} is in use by process {os.getpid()} on {socket.gethostname()}; "
        "wait for it to end or use another workdir")
    # Released on exit, with the name cleared; the next holder takes it.
    assert (tmp_path / "run" / ".lock").read_text() == ""
    with workdir_lib.locked(workdir):
        pass


def test_a_holder_that_has_not_written_its_name_yet_is_another_process(tmp_path):
    import fcntl

    (tmp_path / ".lock").write_text("")
    with open(tmp_path / ".lock", "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        with pytest.raises(workdir_lib.WorkdirError, match=r"is in use by another process;"):
            with workdir_lib.locked(str(tmp_path)):
                pass


def _env(onednn):
    env = python_process.env(REPO_ROOT, TF_ENABLE_ONEDNN_OPTS=onednn)
    env.pop("TF_CONFIG", None)
    return env


def _train(workdir, env, *args, **popen):
    return subprocess.Popen([sys.executable, "-m", "flags.train", *ARGS, *args,
                             f"--workdir={workdir}"], cwd=REPO_ROOT, env=env, text=True,
                            **popen)


# oneDNN on prints a start-up banner on stderr on AVX-512 CPUs: errors are counted as the lines
# that start with "error:", whatever else TensorFlow prints (see tests/cli_train_test.py).
@pytest.mark.parametrize("onednn", ["0", "1"])
def test_a_second_run_is_refused_while_the_first_trains_and_a_third_resumes(tmp_path, onednn):
    workdir, env = tmp_path / "run", _env(onednn)
    lock = workdir / ".lock"
    with open(tmp_path / "first.log", "w") as log:
        first = _train(workdir, env, "--train_kimg=100", stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + TIMEOUT
        # Wait until the first run holds the lock and has saved a checkpoint to resume from.
        while not (lock.exists() and lock.read_text().startswith(f"{first.pid} ") and
                   (workdir / "ckpt" / "checkpoint").exists()):
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "the first run never took the lock"
            time.sleep(0.2)

        start = time.monotonic()
        second = _train(workdir, env, "--train_kimg=100", stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)
        try:
            stdout, stderr = second.communicate(timeout=TIMEOUT)
        finally:
            second.kill()
        elapsed = time.monotonic() - start
        assert first.poll() is None, "the first run must still be training"
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert second.returncode == 1 and errors == [
            f"error: workdir {workdir} is in use by process {first.pid} on "
            f"{socket.gethostname()}; wait for it to end or use another workdir"], stderr
        assert "Traceback" not in stderr and stdout == ""
        # Refused after start-up and validation, before any model is built or step is run.
        assert elapsed < 60, elapsed

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        first.kill()
    assert first.returncode == -signal.SIGKILL
    # The dead holder's name is still in the file, but its flock died with it.
    assert lock.read_text().startswith(f"{first.pid} ")

    killed_at = workdir_lib.checkpoint_step(tf.train.latest_checkpoint(str(workdir / "ckpt")))
    # train_kimg may change on resume: 16 more steps end the third run quickly.
    end = killed_at + 16
    third = _train(workdir, env, f"--train_kimg={end * 16 / 1024}", stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    try:
        stdout, stderr = third.communicate(timeout=TIMEOUT)
    finally:
        third.kill()
    assert third.returncode == 0, stderr
    assert re.search(rf"resuming baseline .* from step {killed_at} to {end} ", stdout), stdout
    assert f"done: step {end} " in stdout
    assert lock.read_text() == ""


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
