"""The installed console scripts, run as a user would: --help and a bad flag, oneDNN on and off.

Each script must print its binary's docstring and its own flags for --help, and a bad flag as
exactly one `error:` line with exit status 1, with nothing else on stderr (TensorFlow's oneDNN
start-up banner included: "1" turns oneDNN on, as AVX-512 VNNI/BF16 CPUs do by default).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from acai_tf.cli import demo, evaluate, export, prepare_data, report, train

# Console script -> (binary module, a flag of its own that --help must list).
SCRIPTS = {
    "acai-train": (train, "--workdir"),
    "acai-evaluate": (evaluate, "--n_init"),
    "acai-report": (report, "--output_dir"),
    "acai-export": (export, "--export_dir"),
    "acai-prepare-data": (prepare_data, "--manual_dir"),
    "acai-demo": (demo, "--train_kimg"),
}
BIN_DIR = Path(sys.executable).parent


def _start(script: str, onednn: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=onednn)
    for variable in ("TF_CPP_MIN_LOG_LEVEL", "ACAI_TF_LOGS", "TF_CONFIG"):
        env.pop(variable, None)
    return subprocess.Popen([str(BIN_DIR / script), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=180)
    finally:
        process.kill()
    return process.returncode, out, err


def test_every_console_script_is_installed():
    missing = [script for script in SCRIPTS if not (BIN_DIR / script).exists()]
    assert not missing, f"not in {BIN_DIR}: {missing} (run `pip install -e .`)"


@pytest.mark.parametrize("onednn", ["0", "1"])
def test_help_shows_the_binarys_docstring_and_flags(onednn):
    # Started together: each waits for TensorFlow's import, and there are two cores.
    processes = {script: _start(script, onednn, "--help") for script in SCRIPTS}
    for script, process in processes.items():
        code, out, err = _finish(process)
        module, own_flag = SCRIPTS[script]
        assert code == 0, (script, err)
        assert err == "", (script, err)
        first_line = module.__doc__.strip().splitlines()[0]
        assert out.lstrip().startswith(first_line), (script, out[:300])
        assert own_flag in out, (script, out[-2000:])


@pytest.mark.parametrize("onednn", ["0", "1"])
def test_a_bad_flag_is_one_error_line(onednn):
    processes = {script: _start(script, onednn, "--no_such_flag=1") for script in SCRIPTS}
    for script, process in processes.items():
        code, _, err = _finish(process)
        assert code == 1, (script, err)
        assert err.splitlines() == [
            "error: Unknown command line flag 'no_such_flag'"], (script, err)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
