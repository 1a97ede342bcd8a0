"""What a measurement or a training run ran on: CPU, its relevant flags, oneDNN, versions.

TensorFlow's CPU speed depends on more than the core count: on CPUs with AVX-512 VNNI/BF16 it
turns oneDNN on by default, which changes kernels, speeds and the fastest gradient path (see
`acai_tf.speed.fast_conv`). Every benchmark row and every run record says which case it measured.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from typing import Any

from acai_tf import quiet_start

# CPU flags that change which TensorFlow kernels run (x86; /proc/cpuinfo names).
RELEVANT_CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")


def _cpuinfo() -> tuple[str, set[str]]:
    """(model name, flag set) from /proc/cpuinfo; the platform's name and no flags elsewhere."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return name, flags


def cpu_flags() -> list[str]:
    """The RELEVANT_CPU_FLAGS this CPU has, in that order (none off x86 or without /proc)."""
    return _relevant(_cpuinfo()[1])


# Instructions that compute in bfloat16 (oneDNN uses them): where a CPU has none, mixed_bfloat16
# emulates it and trains 13 to 15 times slower than float32 (benchmarks/README.md).
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def native_bf16() -> bool:
    """True when this CPU has bfloat16 instructions and oneDNN (which uses them) is not turned
    off by TF_ENABLE_ONEDNN_OPTS=0."""
    # Unset counts as on: every binary turns oneDNN on by default (quiet_start).
    setting = os.environ.get(quiet_start.ONEDNN_VARIABLE, "1").strip().lower()
    enabled = setting not in ("0", "false")
    return enabled and any(flag in _cpuinfo()[1] for flag in NATIVE_BF16_FLAGS)


def _relevant(flags: set[str]) -> list[str]:
    return [flag for flag in RELEVANT_CPU_FLAGS if flag in flags]


def describe() -> dict[str, Any]:
    """The machine and software of this process (imports TensorFlow and Keras)."""
    # pylint: disable=import-outside-toplevel
    import keras
    import tensorflow as tf

    from acai_tf.speed import fast_conv

    name, flags = _cpuinfo()
    return {"cpu": name, "cpu_flags": _relevant(flags),
            "cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)),
            "onednn": fast_conv.onednn_enabled(),
            "gpus": len(tf.config.list_physical_devices("GPU")),
            "tensorflow": tf.__version__, "keras": keras.__version__,
            "python": platform.python_version(), "host": socket.gethostname()}


def one_line(description: dict[str, Any], with_onednn: bool = True) -> str:
    """E.g. "AMD EPYC 9R14 (avx2 avx512f ...), 2 cores, oneDNN on, no GPU; TensorFlow 2.21.0".

    `with_onednn=False` leaves out the oneDNN state, for a table whose rows each give theirs.
    """
    flags = " ".join(description.get("cpu_flags", ())) or "no AVX flags listed"
    onednn = {True: "on", False: "off"}.get(description.get("onednn"), "unknown")
    gpus = description.get("gpus", 0)
    return (f"{description['cpu']} ({flags}), {description['cores']} cores "
            f"({description.get('usable_cores', description['cores'])} usable), "
            f"{f'oneDNN {onednn}, ' if with_onednn else ''}"
            f"{f'{gpus} GPU(s)' if gpus else 'no GPU'}; TensorFlow {description['tensorflow']}, "
            f"Keras {description['keras']}, Python {description['python']}")


def source_commit() -> str | None:
    """The git commit of the acai_tf source tree, when it is a git checkout (else None)."""
    source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        result = subprocess.run(["git", "-C", source, "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None
