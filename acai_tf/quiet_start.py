"""Keeps TensorFlow's C++ start-up banner and runtime chatter off a binary's stderr.

Every binary calls `quiet_tensorflow()` before TensorFlow is first imported, so that its stderr
holds only progress, results and `error:` lines:

- `TF_CPP_MIN_LOG_LEVEL` defaults to 3. That silences the C++ INFO/WARNING/ERROR log lines
  emitted while graphs run (grappler's "remapper failed" among them); failures that matter still
  reach the user as Python exceptions, which the binaries print as one line.
- Some lines ignore that variable: on CPUs where oneDNN is on by default (AVX-512 VNNI/BF16), or
  with `TF_ENABLE_ONEDNN_OPTS=1`, importing TensorFlow prints absl's "All log messages before
  absl::InitializeLog() ..." warning and `port.cc` "oneDNN custom operations are on" twice. The
  import runs with file descriptor 2 pointed at a temporary file; afterwards the known banner
  lines are dropped and anything else in it is written to stderr unchanged.

`ACAI_TF_LOGS=all` turns all of this off: TensorFlow then logs as it would on its own.

It also turns oneDNN on unless the user chose (`TF_ENABLE_ONEDNN_OPTS`, which TensorFlow reads
once, at import): TensorFlow enables it by default only on CPUs with AVX-512 VNNI/BF16, yet on
every CPU class measured it trains faster (on an AVX2 AMD EPYC, ACAI on mnist32: 326 against 247
images/s, median of 3; see benchmarks/README.md). This module imports nothing heavy, so binaries
can import it first.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

SHOW_ALL_VARIABLE = "ACAI_TF_LOGS"
ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"

# C++ log lines of severity INFO or WARNING (absl format: I0000 00:00:1795686296.95 3386 file:line]).
_CPP_INFO_OR_WARNING = re.compile(r"^[IW]\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w./-]+:\d+\] ")
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called"
# cpu_feature_guard's INFO message continues on a second line without a log prefix.
_CONTINUATION = "To enable the following instructions:"


def is_banner_line(line: str) -> bool:
    """True for the start-up lines TensorFlow's import prints that are no concern of a user."""
    return (line.startswith((_ABSL_PREAMBLE, _CONTINUATION))
            or bool(_CPP_INFO_OR_WARNING.match(line)))


def quiet_tensorflow() -> None:
    """Imports TensorFlow with its start-up banner filtered out and oneDNN on unless
    TF_ENABLE_ONEDNN_OPTS says otherwise (a no-op if TensorFlow is already imported).

    Call once, first thing in a binary's `main` module, before anything imports TensorFlow.
    """
    os.environ.setdefault(ONEDNN_VARIABLE, "1")
    if os.environ.get(SHOW_ALL_VARIABLE, "").lower() == "all":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
        finally:
            # Also when the import fails: whatever it printed besides the banner is the user's.
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            _write_kept(captured.read().decode("utf-8", "replace"))


def _write_kept(text: str) -> None:
    kept = [line for line in text.splitlines(keepends=True) if not is_banner_line(line)]
    if kept:
        sys.stderr.write("".join(kept))
        sys.stderr.flush()
