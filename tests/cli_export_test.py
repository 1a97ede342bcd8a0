"""Tests of the export.export_saved_model binary, run as a user would, in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from acai_tf import models
from acai_tf.outputs import workdir
from acai_tf.config import ExperimentConfig

import python_process
import tiny

# Not resolved: under Bazel this is the runfiles tree, which holds export/ and acai_tf/.
REPO_ROOT = Path(__file__).absolute().parents[1]


def _export(*args: str) -> subprocess.CompletedProcess:
    return python_process.run_module(REPO_ROOT, "export.export_saved_model", *args, timeout=300)


def _error(result: subprocess.CompletedProcess) -> str:
    """The one error line of a failed run (and checks that it is the only one)."""
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-2000:]
    return errors[0]


def _tree(path: Path) -> dict:
    """{relative path: (size, mtime)} of everything under `path`."""
    return {str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(path.rglob("*"))}


@pytest.fixture(scope="module", name="trained")
def fixture_trained(tmp_path_factory) -> Path:
    """A workdir holding a tiny ACAI's config.json and checkpoints at steps 3 and 5."""
    path = tmp_path_factory.mktemp("workdir")
    config = tiny.export_experiment("acai")
    (path / "config.json").write_text(config.to_json())
    model = models.build(config.model, seed=0)
    model.compile()
    manager = workdir.checkpoint_manager(str(path), tf.train.Checkpoint(**model.checkpoint_items()))
    for step in (3, 5):
        for variable in model.encoder.weights:
            variable.assign(variable + 0.01)
        manager.save(checkpoint_number=step)
    return path


def test_exports_numbered_versions_and_lists_every_model(trained, tmp_path):
    workdir_before = _tree(trained)
    export_dir = tmp_path / "models"
    first = _export(f"--workdir={trained}", f"--export_dir={export_dir}")
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.strip() == (
        f"exported acai version 1 (step 5, {trained}/ckpt/ckpt-5) to {export_dir}/acai/1; "
        f"models listed in {export_dir}/models.config")
    second = _export(f"--workdir={trained}", f"--export_dir={export_dir}")
    assert second.returncode == 0, second.stderr[-2000:]
    named = _export(f"--workdir={trained}", f"--export_dir={export_dir}", "--model_name=lines",
                    "--version=7", f"--checkpoint={trained}/ckpt/ckpt-3",
                    "--serving_root=/srv/tf")
    assert named.returncode == 0, named.stderr[-2000:]
    # Nothing else (no scratch folder) next to the versions.
    assert sorted(os.listdir(export_dir)) == ["acai", "lines", "models.config"]
    assert sorted(os.listdir(export_dir / "acai")) == ["1", "2"]
    assert sorted(os.listdir(export_dir / "lines")) == ["7"]
    for version in (export_dir / "acai" / "1", export_dir / "lines" / "7"):
        assert {"saved_model.pb", "variables", "assets", "assets.extra"} <= set(
            os.listdir(version))
        assert (version / "assets.extra" / "tf_serving_warmup_requests").stat().st_size > 0
    assert (export_dir / "models.config").read_text() == (
        'model_config_list {\n'
        '  config {\n    name: "acai"\n    base_path: "/models/acai"\n'
        '    model_platform: "tensorflow"\n  }\n'
        '  config {\n    name: "lines"\n    base_path: "/srv/tf/lines"\n'
        '    model_platform: "tensorflow"\n  }\n}\n')
    # --checkpoint chose the older weights.
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    latest = tf.saved_model.load(str(export_dir / "acai" / "1")).signatures["encode"]
    older = tf.saved_model.load(str(export_dir / "lines" / "7")).signatures["encode"]
    assert not np.allclose(latest(images=x)["latents"], older(images=x)["latents"])
    assert _tree(trained) == workdir_before  # The workdir is only read.

    before = _tree(export_dir)
    existing = _export(f"--workdir={trained}", f"--export_dir={export_dir}", "--version=2")
    assert _error(existing) == (
        f"error: {export_dir}/acai/2 already exists: exported versions are never overwritten "
        "(omit --version to take the next one)")
    assert _tree(export_dir) == before


@pytest.mark.parametrize("version, message", [
    ("0", "0 is not a positive integer"),
    ("abc", "invalid literal for int() with base 10: 'abc'")])
def test_a_bad_version_number_is_a_one_line_error(trained, tmp_path, version, message):
    result = _export(f"--workdir={trained}", f"--export_dir={tmp_path}", f"--version={version}")
    assert _error(result) == f"error: flag --version={version}: {message}"
    assert os.listdir(tmp_path) == []


def test_missing_flags_are_a_one_line_error(tmp_path):
    result = _export(f"--export_dir={tmp_path}")
    assert _error(result) == ("error: flag --workdir=None: Flag --workdir must have a value "
                              "other than None.")


def test_a_workdir_without_config_or_checkpoint_is_a_one_line_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _export(f"--workdir={empty}", f"--export_dir={tmp_path / 'models'}")
    assert _error(result) == (f"error: {empty}/config.json does not exist: is '{empty}' a "
                              "training workdir?")
    (empty / "config.json").write_text(ExperimentConfig().to_json())
    result = _export(f"--workdir={empty}", f"--export_dir={tmp_path / 'models'}")
    assert _error(result) == f"error: no checkpoint in {empty}/ckpt: train the model first"
    assert not (tmp_path / "models").exists()


def test_bad_model_name_checkpoint_or_models_config_is_a_one_line_error(trained, tmp_path):
    result = _export(f"--workdir={trained}", f"--export_dir={tmp_path}", "--model_name=a/b")
    assert _error(result) == ("error: model name 'a/b' must be letters, digits, '_', '.' or "
                              "'-'")
    result = _export(f"--workdir={trained}", f"--export_dir={tmp_path}",
                     f"--checkpoint={trained}/ckpt/ckpt-4")
    assert _error(result) == f"error: checkpoint {trained}/ckpt/ckpt-4 does not exist"
    (tmp_path / "models.config").write_text("model_config_list { config { nam: 'x' } }\n")
    result = _export(f"--workdir={trained}", f"--export_dir={tmp_path}")
    assert _error(result).startswith(
        f"error: {tmp_path}/models.config is not a TF Serving model config: ")
    assert os.listdir(tmp_path) == ["models.config"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
