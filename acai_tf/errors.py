"""`UserError`: the base of every error that a user's input or environment causes, not a bug.

Each library raises its own subclass (`ConfigError`, `WorkdirError`, `DatasetNotPreparedError`,
...) with a one-line message saying what to change; every binary turns any `UserError` into
`error: <message>` and exit status 1 (`acai_tf.cli.runner.one_line_errors`). Anything else is a
bug and keeps its traceback.
"""

import contextlib
import re
import sys
from typing import Iterator


class UserError(Exception):
    """A request that cannot be carried out as given; the message is one line."""


class StorageError(UserError, OSError):
    """Writing a file or folder failed in the environment (no space left, read-only folder):
    the message names the path and the cause. Still an OSError for callers that catch those."""


@contextlib.contextmanager
def saving(path: str) -> Iterator[None]:
    """Turns an OSError, or a TensorFlow I/O error, raised in the block into a StorageError
    "cannot write <path>: <cause>".

    TensorFlow's own writers (checkpoints, SavedModels) report a full disk or a read-only
    folder as a `tf.errors.OpError` with a multi-line message, not as an OSError.
    """
    try:
        yield
    except StorageError:
        raise
    except OSError as error:
        raise StorageError(f"cannot write {path}: {error.strerror or error}") from None
    except Exception as error:  # pylint: disable=broad-except
        tf = sys.modules.get("tensorflow")
        if tf is None or not isinstance(error, tf.errors.OpError):
            raise
        message = (error.message or type(error).__name__).strip().splitlines()[0]
        # "{{function_node __wrapped__SaveV2...}} <file>; No space left on device [Op:SaveV2]"
        message = re.sub(r"^\{\{function_node [^}]*\}\}\s*|\s*\[Op:\w+\]$", "", message)
        raise StorageError(f"cannot write {path}: {message}") from None
