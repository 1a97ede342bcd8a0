"""Writing a file so that readers see the old content or the new one, never half of it.

    with atomic_write.replacing(path, "wb") as f:
        image.save(f, format="PNG")

The content goes to a temporary file in the same directory (so the final rename stays on one
file system and is atomic), under a name unique to this call: two processes writing the same
path (e.g. a run and a stray second run on the same workdir) must never share a temporary file,
or one renames the other's half-written bytes into place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import IO, Iterator

from acai_tf import errors

# mkstemp creates files readable by the owner only; results, images and configs are meant to
# be read by others (a TensorBoard or model server running as another user).
PERMISSIONS = 0o644


@contextlib.contextmanager
def replacing(path: str, mode: str = "w", encoding: str | None = None) -> Iterator[IO]:
    """Yields an open temporary file that replaces `path` when the block ends without error.

    Args:
        path: the file to (re)place; its directory is created if missing.
        mode: "w" (text) or "wb" (bytes).
        encoding: for text mode; default UTF-8.

    On an exception the temporary file is removed and `path` is left as it was; an OSError
    (no space left, read-only folder) comes out as a StorageError naming `path`.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    with errors.saving(path):
        with _replacing(path, mode, encoding) as f:
            yield f


@contextlib.contextmanager
def _replacing(path: str, mode: str, encoding: str | None) -> Iterator[IO]:
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                     dir=directory)
    try:
        with os.fdopen(fd, mode, encoding=(encoding or "utf-8") if mode == "w" else None) as f:
            yield f
        os.chmod(temporary, PERMISSIONS)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def write_text(path: str, text: str) -> None:
    """Replaces `path` with `text` (UTF-8) atomically."""
    with replacing(path) as f:
        f.write(text)
