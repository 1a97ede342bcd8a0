"""The TF Serving model config file (`--model_config_file`) listing every model of an export dir.

    model_config_list {
      config { name: "acai" base_path: "/models/acai" model_platform: "tensorflow" }
    }

`update` adds or refreshes one model's entry and keeps every other entry (and any other setting,
such as a version policy) as it was; the file is rewritten atomically under a lock, so two
exports into the same directory cannot lose each other's entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from acai_tf.outputs import atomic_write
from acai_tf.errors import UserError

FILENAME = "models.config"


class ModelsConfigError(UserError, ValueError):
    """The existing models.config cannot be read; the message is one line."""


def read(path: str) -> model_server_config_pb2.ModelServerConfig:
    """Parses a models.config; a missing file is an empty config."""
    config = model_server_config_pb2.ModelServerConfig()
    if not os.path.exists(path):
        return config
    with open(path, encoding="utf-8") as f:
        try:
            text_format.Parse(f.read(), config)
        except text_format.ParseError as error:
            raise ModelsConfigError(f"{path} is not a TF Serving model config: {error}") from None
    if config.HasField("custom_model_config"):
        raise ModelsConfigError(f"{path} holds a custom_model_config, not a model_config_list")
    return config


@contextlib.contextmanager
def _locked(export_dir: str):
    # The directory itself is the lock: the config file is replaced, and a lock file would be
    # one more thing in the server's folder.
    fd = os.open(export_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def update(export_dir: str, model_name: str, base_path: str) -> str:
    """Adds (or points at `base_path`) the entry of `model_name` in `export_dir/models.config`.

    Args:
        export_dir: the directory holding one folder per model.
        model_name: the model's name for clients (the URL's /v1/models/<name>).
        base_path: the model's folder as the server sees it (holds the version directories).

    Returns:
        The path of the config file.
    """
    path = os.path.join(export_dir, FILENAME)
    with _locked(export_dir):
        config = read(path)
        entries = config.model_config_list.config
        entry = next((e for e in entries if e.name == model_name), None) or entries.add()
        entry.name, entry.base_path, entry.model_platform = model_name, base_path, "tensorflow"
        atomic_write.write_text(path, text_format.MessageToString(config))
    return path
