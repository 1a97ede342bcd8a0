"""Versioned export of a training workdir for TF Serving.

    export_dir/
      models.config                    every exported model (`--model_config_file`)
      <model_name>/<version>/          one SavedModel per version, never overwritten
        saved_model.pb, variables/     the serving signatures (see acai_tf.serving.servable)
        assets/config.json             the workdir's ExperimentConfig
        assets.extra/tf_serving_warmup_requests

A version is written into a hidden scratch folder beside its final place and renamed when
complete, so a server polling `<model_name>/` never sees a half-written version.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
import shutil
import tempfile

from tensorflow.core.protobuf import saved_model_pb2

from acai_tf import errors
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.errors import UserError
from acai_tf.serving import models_config, servable, warmup

_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class ExportError(UserError, RuntimeError):
    """The export cannot be made as asked; the message is one line."""


@dataclasses.dataclass(frozen=True)
class ExportResult:
    path: str  # The version directory.
    model_name: str
    version: int
    checkpoint: str
    step: int
    models_config: str


def existing_versions(model_dir: str) -> list[int]:
    """Versions (numeric subdirectories) in a model's folder, ascending; [] if none."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(name) for name in os.listdir(model_dir)
                  if name.isdigit() and os.path.isdir(os.path.join(model_dir, name)))


def read_signatures(saved_model_dir: str) -> dict:
    """{key: SignatureDef} of the serving meta graph of a SavedModel on disk."""
    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(saved_model_dir, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    graph = next(g for g in saved_model.meta_graphs if "serve" in g.meta_info_def.tags)
    return dict(graph.signature_def)


def export(workdir: str, export_dir: str, *, version: int | None = None,
           model_name: str | None = None, checkpoint: str | None = None,
           serving_root: str = "/models") -> ExportResult:
    """Exports the encoder and decoder of a workdir's checkpoint as a new servable version.

    Args:
        workdir: a training workdir (config.json and ckpt/).
        export_dir: where models live; the version goes to `export_dir/<model_name>/<version>`.
        version: default one more than the largest existing version (1 for a new model).
        model_name: default the model's registered name (`acai`, `vae`, ...).
        checkpoint: a checkpoint path prefix; default the workdir's latest.
        serving_root: `export_dir` as the server sees it, for the models.config base paths.

    Returns:
        What was written.

    Raises:
        ExportError, WorkdirError, ConfigError: with one-line messages; nothing is written.
    """
    config = workdir_lib.load_config(workdir)
    model_name = model_name or config.model.name
    if not _MODEL_NAME.fullmatch(model_name):
        raise ExportError(f"model name {model_name!r} must be letters, digits, '_', '.' or '-'")
    if version is not None and (not isinstance(version, int) or version < 1):
        raise ExportError(f"version must be a positive integer, got {version!r}")
    model_dir = os.path.join(export_dir, model_name)
    version = version or max(existing_versions(model_dir), default=0) + 1
    final = os.path.join(model_dir, str(version))
    if os.path.lexists(final):
        raise ExportError(f"{final} already exists: exported versions are never overwritten "
                          "(omit --version to take the next one)")
    try:
        models_config.read(os.path.join(export_dir, models_config.FILENAME))
    except models_config.ModelsConfigError as error:
        raise ExportError(str(error)) from None
    model, config, checkpoint, step = workdir_lib.restore_model(workdir, checkpoint)

    # No space left or a read-only folder is one line naming the version being written; the
    # half-written version is removed and nothing else is touched.
    with errors.saving(final):
        os.makedirs(model_dir, exist_ok=True)
        _write_version(model, config, model_name, model_dir, version, final)
    config_path = models_config.update(export_dir, model_name,
                                       posixpath.join(serving_root, model_name))
    return ExportResult(final, model_name, version, checkpoint, step, config_path)


def _write_version(model, config, model_name: str, model_dir: str, version: int,
                   final: str) -> None:
    """Writes the servable into a scratch folder of model_dir, then renames it to `final`."""
    scratch = tempfile.mkdtemp(prefix=f".{version}.incomplete-", dir=model_dir)
    try:
        servable.save(model, config, scratch)
        signatures = read_signatures(scratch)
        requests = []
        for key, inputs in warmup.example_inputs(config.model).items():
            requests.append(warmup.predict_request(model_name, key, inputs))
            warmup.check_request(requests[-1], signatures[key])
        warmup.write(scratch, requests)
        os.chmod(scratch, 0o755)  # mkdtemp's 0700 would hide the version from a server's user.
        if os.path.lexists(final):  # Another export took the version meanwhile.
            raise ExportError(f"{final} appeared during the export; it was left untouched")
        os.rename(scratch, final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
