"""Tests of acai_tf.quiet_start: TensorFlow's start-up banner stays off a binary's stderr."""

import subprocess
import sys
from pathlib import Path

import pytest

from acai_tf import quiet_start

import python_process

# Not resolved: under Bazel this is the runfiles tree, which holds acai_tf/.
REPO_ROOT = Path(__file__).absolute().parents[1]

BANNER = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795686296.951272    3386 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results due to floating-point round-off errors.",
    "W0000 00:00:1795686303.939151    3543 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F, in other operations, rebuild TensorFlow",
]


@pytest.mark.parametrize("line", BANNER)
def test_banner_lines_are_recognised(line):
    assert quiet_start.is_banner_line(line)


@pytest.mark.parametrize("line", [
    "error: unknown dataset 'nope'",
    "E0000 00:00:1795686339.045864    3707 some_kernel.cc:12] an error is not a banner",
    "Traceback (most recent call last):",
    "I0000 without the rest of a log prefix",
])
def test_other_lines_are_kept(line):
    assert not quiet_start.is_banner_line(line)


def _import_tensorflow(onednn: str, **extra: str) -> subprocess.CompletedProcess:
    env = python_process.env(REPO_ROOT, TF_ENABLE_ONEDNN_OPTS=onednn, **extra)
    if "ACAI_TF_LOGS" not in extra:
        env.pop("ACAI_TF_LOGS", None)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    code = ("import sys; from acai_tf.quiet_start import quiet_tensorflow; quiet_tensorflow(); "
            "import tensorflow as tf; tf.constant(1.0) + 1.0; print('kept', file=sys.stderr)")
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("onednn", ["0", "1"])
def test_importing_tensorflow_leaves_stderr_to_the_program(onednn):
    result = _import_tensorflow(onednn)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["kept"]


def test_the_switch_shows_tensorflows_own_output():
    # With oneDNN on, TensorFlow announces it on every CPU; the switch must let that through.
    result = _import_tensorflow("1", ACAI_TF_LOGS="all")
    assert result.returncode == 0, result.stderr
    assert "oneDNN custom operations are on" in result.stderr
    assert result.stderr.splitlines()[-1] == "kept"


@pytest.mark.parametrize("given, expected", [(None, True), ("0", False), ("1", True)])
def test_onednn_is_on_unless_the_user_chose(given, expected):
    env = python_process.env(REPO_ROOT)
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    if given is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = given
    code = ("from acai_tf.quiet_start import quiet_tensorflow; quiet_tensorflow(); "
            "from acai_tf.speed import fast_conv; print(fast_conv.onednn_enabled())")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(expected)]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
