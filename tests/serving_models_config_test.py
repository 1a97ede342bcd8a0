"""Tests of the TF Serving models.config writer (acai_tf.serving.models_config)."""

import os
import sys

import pytest

from acai_tf.serving import models_config


def test_models_config_update_keeps_other_entries(tmp_path):
    export_dir = str(tmp_path)
    path = os.path.join(export_dir, models_config.FILENAME)
    with open(path, "w", encoding="utf-8") as f:
        f.write('model_config_list { config { name: "old" base_path: "/models/old" '
                'model_platform: "tensorflow" model_version_policy { all {} } } }\n')
    models_config.update(export_dir, "acai", "/models/acai")
    models_config.update(export_dir, "vae", "/models/vae")
    models_config.update(export_dir, "acai", "/srv/acai")
    entries = models_config.read(path).model_config_list.config
    assert [(e.name, e.base_path, e.model_platform) for e in entries] == [
        ("old", "/models/old", "tensorflow"), ("acai", "/srv/acai", "tensorflow"),
        ("vae", "/models/vae", "tensorflow")]
    assert entries[0].model_version_policy.HasField("all")
    assert os.listdir(export_dir) == [models_config.FILENAME]


def test_a_corrupt_models_config_is_an_error_and_left_alone(tmp_path):
    path = tmp_path / models_config.FILENAME
    path.write_text("model_config_list { config { nam: 'x' } }\n")
    with pytest.raises(models_config.ModelsConfigError, match="is not a TF Serving model config"):
        models_config.update(str(tmp_path), "acai", "/models/acai")
    assert path.read_text() == "model_config_list { config { nam: 'x' } }\n"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
