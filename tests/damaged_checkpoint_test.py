"""A damaged checkpoint costs one checkpoint period, through the real binaries.

A tiny ACAI run is trained once to 48 steps (checkpoints at 16, 32 and 48). Each test copies it,
damages its newest checkpoint the way a dying machine, a full disk or a bad copy would, and
runs the binaries as a user would, with oneDNN off and on:

- `flags.evaluate` and `export.export_saved_model`: one `error:` line naming the damaged file
  and the readable checkpoints, exit status 1, nothing written;
- `flags.train` with the run's own command: one line saying what was set aside and the step it
  resumes from, then the run ends at its full budget with one report per step.

When no checkpoint is readable, training stops with one line and every file stays in place.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from acai_tf.outputs import checkpoints
from acai_tf.training import metrics_log

import python_process
import tiny

REPO_ROOT = Path(__file__).absolute().parents[1]
TRAIN_ARGS = ["--model=acai", "--dataset=lines32", *tiny.MODEL_FLAGS, "--batch=16",
              "--train_kimg=0.75", "--report_kimg=0.25"]
DATA = ".data-00000-of-00001"
TIMEOUT = 300


def _run(module: str, onednn: str, *args: str) -> subprocess.CompletedProcess:
    env = python_process.env(REPO_ROOT, TF_ENABLE_ONEDNN_OPTS=onednn)
    for variable in ("TF_CONFIG", "ACAI_TF_LOGS", "TF_CPP_MIN_LOG_LEVEL"):
        env.pop(variable, None)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)


def _stderr_lines(result: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("trained") / "run"
    result = _run("flags.train", "0", *TRAIN_ARGS, f"--workdir={workdir}")
    assert result.returncode == 0, result.stderr
    assert [path.step for path in _checkpoints(workdir)] == [48, 32, 16]
    return workdir


class _Checkpoint:
    def __init__(self, prefix: str):
        self.prefix, self.step = prefix, checkpoints.step_of(prefix)


def _checkpoints(workdir: Path) -> list[_Checkpoint]:
    return [_Checkpoint(path) for path in checkpoints.candidates(str(workdir / "ckpt"))]


def _truncate(ckpt: Path) -> str:
    data = ckpt / f"ckpt-48{DATA}"
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) // 2)
    return str(data)


def _flip_bytes(ckpt: Path) -> str:
    data = ckpt / f"ckpt-48{DATA}"
    with open(data, "r+b") as f:
        f.seek(os.path.getsize(data) // 3)
        chunk = f.read(16)
        f.seek(os.path.getsize(data) // 3)
        f.write(bytes(byte ^ 0xFF for byte in chunk))
    return str(data)


def _remove_data(ckpt: Path) -> str:
    os.remove(ckpt / f"ckpt-48{DATA}")
    return str(ckpt / "ckpt-48.data-*")


def _remove_index(ckpt: Path) -> str:
    os.remove(ckpt / "ckpt-48.index")
    return str(ckpt / "ckpt-48.index")


def _state_names_missing(ckpt: Path) -> str:
    """The state file names ckpt-64, of which no file exists (a copy that lost it)."""
    state = ckpt / "checkpoint"
    state.write_text('model_checkpoint_path: "ckpt-64"\n' + state.read_text().split("\n", 1)[1]
                     + 'all_model_checkpoint_paths: "ckpt-64"\n')
    return str(ckpt / "ckpt-64.index")


DAMAGES = {"truncated data": _truncate, "flipped bytes": _flip_bytes,
           "no data file": _remove_data, "no index": _remove_index,
           "state names a missing checkpoint": _state_names_missing}


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != ".lock"}


@pytest.mark.parametrize("onednn", ["0", "1"])
@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_newest_checkpoint(trained, tmp_path, damage, onednn):
    workdir = tmp_path / "run"
    shutil.copytree(trained, workdir)
    damaged_file = DAMAGES[damage](workdir / "ckpt")
    newest_readable = 48 if damage == "state names a missing checkpoint" else 32
    before = _snapshot(workdir)

    # Evaluate and export: one line naming the file and what to pass instead; nothing written.
    export_dir = tmp_path / "exports"
    for module, args in (("flags.evaluate", ["--parts=lines"]),
                         ("export.export_saved_model", [f"--export_dir={export_dir}"])):
        result = _run(module, onednn, f"--workdir={workdir}", *args)
        assert result.returncode == 1, result.stdout
        (line,) = _stderr_lines(result)
        assert line.startswith(f"error: checkpoint file {damaged_file} is damaged: "), line
        readable = [f"{workdir}/ckpt/ckpt-{step}" for step in (48, 32, 16) if
                    step <= newest_readable]
        assert line.endswith(f"readable checkpoints: {', '.join(readable)} (pass one with "
                             "--checkpoint)"), line
        assert _snapshot(workdir) == before and not export_dir.exists()

    # Training: set aside, resume from the newest readable checkpoint, finish the budget.
    result = _run("flags.train", onednn, *TRAIN_ARGS, f"--workdir={workdir}")
    assert result.returncode == 0, result.stderr
    assert _stderr_lines(result) == []
    damaged_name = os.path.basename(checkpoints._prefix(damaged_file))
    (fallback,) = [line for line in result.stdout.splitlines()
                   if line.startswith("damaged checkpoint")]
    assert re.fullmatch(rf"damaged checkpoint {damaged_name} \(checkpoint file .* is damaged: "
                        rf".*\) moved to {workdir}/ckpt/damaged/\d{{8}}T\d{{6}}Z; resuming from "
                        rf"step {newest_readable} \(ckpt-{newest_readable}\)", fallback), fallback
    assert re.search(r"^done: step 48 ", result.stdout, re.MULTILINE), result.stdout
    assert [ckpt.step for ckpt in _checkpoints(workdir)][0] == 48
    checkpoints.check_readable(f"{workdir}/ckpt/ckpt-48")
    # The evidence is kept: whatever files the damaged checkpoint had, and the old state file.
    (aside,) = (workdir / "ckpt" / "damaged").iterdir()
    kept = {path.name for path in aside.iterdir()}
    expected = {name for name in before if name.startswith(f"ckpt/{damaged_name}.")}
    assert {f"ckpt/{name}" for name in kept} == expected | {"ckpt/checkpoint"}
    # One report per step, the repeated ones from the resumed run.
    assert [record["step"] for record in metrics_log.read(str(workdir))] == [16, 32, 48]


@pytest.mark.parametrize("onednn", ["0", "1"])
def test_no_readable_checkpoint_stops_and_moves_nothing(trained, tmp_path, onednn):
    workdir = tmp_path / "run"
    shutil.copytree(trained, workdir)
    for step in (16, 32, 48):
        os.remove(workdir / "ckpt" / f"ckpt-{step}{DATA}")
    before = _snapshot(workdir)
    result = _run("flags.train", onednn, *TRAIN_ARGS, f"--workdir={workdir}")
    assert result.returncode == 1
    assert _stderr_lines(result) == [
        f"error: no readable checkpoint in {workdir}/ckpt (3 damaged, newest: checkpoint file "
        f"{workdir}/ckpt/ckpt-48.data-* is damaged: it is missing); nothing was moved: restore "
        "the folder from a copy or train in a new workdir"]
    after = _snapshot(workdir)
    # config.json gains nothing either: the run never started.
    assert after == before


def test_a_readable_checkpoint_passes_and_an_older_one_can_be_chosen(trained, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(trained, workdir)
    _truncate(workdir / "ckpt")
    result = _run("flags.evaluate", "0", f"--workdir={workdir}", "--parts=lines",
                  f"--checkpoint={workdir}/ckpt/ckpt-32")
    assert result.returncode == 0, result.stderr
    assert '"step": 32' in (workdir / "eval" / "results.json").read_text()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
