"""Tests of the flagfile writer (acai_tf.cli.write_run_flags), run as a user would."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).absolute().parents[1]
RUNS_DIR = REPO_ROOT / "flags" / "runs"


def test_the_writer_writes_the_committed_flagfiles(tmp_path):
    result = subprocess.run([sys.executable, "-m", "flags.write_run_flags",
                             f"--out_dir={tmp_path}"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == f"wrote 63 flagfiles in {tmp_path}"
    for path in tmp_path.iterdir():
        assert path.read_text() == (RUNS_DIR / path.name).read_text(), path.name


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
