"""Fresh Python processes on this source tree, for tests that run a binary or a worker in one.

Each test passes its own repo root, `Path(__file__).absolute().parents[1]`: not resolved, so that
under Bazel it is the runfiles tree, which holds flags/, export/, benchmarks/ and acai_tf/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def env(repo_root: Path, **extra: str) -> dict[str, str]:
    """This process's environment with `extra` set and repo_root first on PYTHONPATH, so that
    the child's `python -m flags.<name>` and `import acai_tf` read this tree, not an installed
    copy."""
    python_path = os.pathsep.join(filter(None, [str(repo_root), os.environ.get("PYTHONPATH")]))
    return {**os.environ, **extra, "PYTHONPATH": python_path}


def run_module(repo_root: Path, module: str, *args: str,
               timeout: float) -> subprocess.CompletedProcess:
    """Runs `python -m module *args` in repo_root with `env(repo_root)` and waits for it.

    Returns the finished process with its stdout and stderr as text; a failing exit status is
    the test's to check, not an exception.
    """
    return subprocess.run([sys.executable, "-m", module, *args], cwd=repo_root,
                          env=env(repo_root), capture_output=True, text=True, timeout=timeout,
                          check=False)
