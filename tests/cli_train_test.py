"""Bad input to the flags.train binary: one `error:` line on stderr, exit 1, no traceback, and an
existing workdir left untouched.

Most cases drive `main()` in-process (flagsaver); a few run the real binary in subprocesses
(started together to share the TensorFlow start-up time) to check what a user sees end to end.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from absl import flags
from absl.testing import flagsaver

from acai_tf.config import ExperimentConfig, TrainConfig
from acai_tf.cli import flag_defs, runner
from acai_tf.cli import train as train_binary

import python_process
import tiny

REPO_ROOT = Path(__file__).absolute().parents[1]
TINY = [*tiny.MODEL_FLAGS, "--batch=16", "--train_kimg=0.125"]

if "model" not in flags.FLAGS:
    flag_defs.define_flags()


def run_main(capsys, *args):
    """Parses args and runs main() as the binary would; returns (exit code, stderr lines)."""
    code = 0
    with flagsaver.flagsaver():
        try:
            runner.parse_or_exit(["train", *args])
            train_binary.main()
        except SystemExit as exit_:
            code = exit_.code
    return code, capsys.readouterr().err.splitlines()


def assert_one_line_error(code, lines, fragment):
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert fragment in lines[0]


def snapshot(directory):
    return {path: os.stat(os.path.join(root, path)).st_mtime_ns
            for root, _, files in os.walk(directory) for path in files}


@pytest.mark.parametrize("args, fragment", [
    (["--model=nope"], "flag --model=nope: value should be one of"),
    (["--dataset=nope"], "unknown dataset 'nope'"),
    (["--batch=0"], "batch must be a positive integer, got 0"),
    (["--batch=-16"], "batch must be a positive integer, got -16"),
    (["--train_kimg=0"], "train_kimg must be positive"),
    (["--report_kimg=-1"], "report_kimg must be positive"),
    (["--depth=0"], "depth must be a positive integer"),
    (["--latent=-2"], "latent must be a positive integer"),
    (["--latent_width=3"], "latent_width=3 must be a positive divisor of image size 32"),
    (["--latent_width=64"], "latent_width=64 must be a positive divisor"),
    (["--lr=0"], "lr must be positive"),
    (["--model=baseline", "--reg=0.1"], "--reg does not apply to model 'baseline'"),
    (["--model=vae", "--advweight=0.5"], "--advweight does not apply to model 'vae' "
                                         "(it takes: --beta, --encoding)"),
    (["--model=acai", "--update_order=sometimes"], "value should be one of"),
    (["--seed=-1"], "seed must be non-negative"),
    (["--explosion_factor=0.5"], "explosion_factor must be 0 (no check) or greater than 1"),
    (["--strategy=multi_worker"], "needs the TF_CONFIG environment variable"),
    (["--dataset=mnist32", "--data_dir=/nonexistent/tfds"], "is not prepared in"),
])
def test_bad_input_is_one_line_error_and_writes_nothing(capsys, tmp_path, monkeypatch, args,
                                                        fragment):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    workdir = tmp_path / "run"
    code, lines = run_main(capsys, *TINY, *args, f"--workdir={workdir}")
    assert_one_line_error(code, lines, fragment)
    assert not workdir.exists()


def test_workdir_with_a_different_config_is_untouched(capsys, tmp_path):
    workdir = tmp_path / "run"
    (workdir / "ckpt").mkdir(parents=True)
    saved = ExperimentConfig(model=tiny.model_config("acai"),
                             train=TrainConfig(batch=16, train_kimg=0.125))
    (workdir / "config.json").write_text(saved.to_json())
    before = snapshot(workdir)
    code, lines = run_main(capsys, *TINY, "--depth=8", f"--workdir={workdir}")
    assert_one_line_error(code, lines, "holds a different config (model.depth: 4 -> 8)")
    assert snapshot(workdir) == before


# oneDNN on (the default on AVX-512 VNNI/BF16 CPUs) makes TensorFlow's import print a banner
# that the binaries must keep off stderr; "1" shows that behaviour on any x86 CPU.
@pytest.mark.parametrize("onednn", ["0", "1"])
def test_the_binary_reports_errors_in_one_line_and_fails_fast(tmp_path, onednn):
    """Real processes: a flag parse error, an unprepared dataset, a conflicting workdir."""
    conflicting = tmp_path / "conflict"
    conflicting.mkdir()
    (conflicting / "config.json").write_text(ExperimentConfig().to_json())
    before = snapshot(conflicting)
    cases = {
        "model": (["--model=nope", f"--workdir={tmp_path / 'a'}"], "--model=nope"),
        "unprepared": (["--dataset=mnist32", f"--data_dir={tmp_path / 'tfds'}",
                        f"--workdir={tmp_path / 'b'}"], "is not prepared"),
        "workdir": ([*TINY, f"--workdir={conflicting}"], "holds a different config"),
        "required": ([], "--workdir"),
    }
    env = python_process.env(REPO_ROOT, TF_ENABLE_ONEDNN_OPTS=onednn)
    for variable in ("TF_CONFIG", "TF_CPP_MIN_LOG_LEVEL", "ACAI_TF_LOGS"):
        env.pop(variable, None)
    start = time.monotonic()
    processes = {name: subprocess.Popen([sys.executable, "-m", "flags.train", *args],
                                        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
                 for name, (args, _) in cases.items()}
    for name, process in processes.items():
        try:
            _, stderr = process.communicate(timeout=120)
        finally:
            process.kill()
        lines = stderr.splitlines()
        assert_one_line_error(process.returncode, lines, cases[name][1])
    # Without the fail-fast check tfds would retry downloads for minutes.
    assert time.monotonic() - start < 90
    assert snapshot(conflicting) == before
    assert not any((tmp_path / name).exists() for name in ("a", "b"))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
