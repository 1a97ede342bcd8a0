"""Crash safety: a training process killed with SIGKILL resumes from its last checkpoint.

Runs `python -m flags.train` as a user would, kills it once the first checkpoint exists, reruns
the same command and checks that it ends at the configured step with a loadable checkpoint whose
optimizer state matches the step.
"""

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tensorflow as tf

from acai_tf import models
from acai_tf.outputs import workdir as workdir_lib

import python_process
import tiny

REPO_ROOT = Path(__file__).absolute().parents[1]
# 48 steps of batch 16, a report and checkpoint every 16 steps.
ARGS = ["--model=acai", "--dataset=lines32", *tiny.MODEL_FLAGS, "--batch=16", "--train_kimg=0.75",
        "--report_kimg=0.25"]
TOTAL_STEPS = 48
TIMEOUT = 240


def start(workdir):
    env = python_process.env(REPO_ROOT)
    env.pop("TF_CONFIG", None)
    return subprocess.Popen([sys.executable, "-m", "flags.train", *ARGS, f"--workdir={workdir}"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_killed_run_resumes_to_the_right_step(tmp_path):
    workdir = tmp_path / "run"
    process = start(workdir)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (workdir / "ckpt" / "checkpoint").exists():
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    killed_at = workdir_lib.checkpoint_step(tf.train.latest_checkpoint(str(workdir / "ckpt")))
    assert 0 < killed_at < TOTAL_STEPS

    process = start(workdir)
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 0, output
    resumed_from = int(re.search(r"resuming acai .* from step (\d+) to 48", output).group(1))
    assert resumed_from >= killed_at and resumed_from % 16 == 0
    assert re.search(r"^done: step 48 \(0.8 kimg\)", output, re.MULTILINE), output

    # The final checkpoint restores completely, and every optimizer took exactly 48 steps.
    latest = tf.train.latest_checkpoint(str(workdir / "ckpt"))
    assert workdir_lib.checkpoint_step(latest) == TOTAL_STEPS
    config = workdir_lib.load_config(str(workdir))
    model = models.build(config.model, seed=config.train.seed)
    model.compile()
    items = model.checkpoint_items()
    tf.train.Checkpoint(**items).restore(latest).assert_consumed()
    iterations = {name: int(item.iterations.numpy()) for name, item in items.items()
                  if name.endswith("_optimizer")}
    assert iterations == {"ae_optimizer": 48, "classifier_optimizer": 48, "critic_optimizer": 48}


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
