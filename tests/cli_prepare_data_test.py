"""Tests for the flags.prepare_data binary, run as a user would, in a subprocess."""

import subprocess
import sys
from pathlib import Path

import pytest

import python_process

# Not resolved: under Bazel this is the runfiles tree, which holds flags/ and acai_tf/.
REPO_ROOT = Path(__file__).absolute().parents[1]


def _prepare_data(*args: str) -> subprocess.CompletedProcess:
    return python_process.run_module(REPO_ROOT, "flags.prepare_data", *args, timeout=120)


def test_bad_dataset_name_is_a_one_line_error(tmp_path):
    result = _prepare_data("--dataset=no_such_dataset", f"--data_dir={tmp_path}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: unknown dataset 'no_such_dataset'; known: lines32, mnist32, "
                      "svhn32, cifar10, celeba32, tfds:NAME or folder:PATH"]


def test_missing_archives_fail_fast_instead_of_downloading(tmp_path):
    result = _prepare_data("--dataset=mnist32", f"--data_dir={tmp_path / 'tfds'}",
                           f"--manual_dir={tmp_path}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "train-images-idx3-ubyte.gz" in errors[0]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
