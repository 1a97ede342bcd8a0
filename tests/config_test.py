"""acai_tf.config: validation, and the config.json round trip that every workdir relies on."""

import json
import sys

import pytest
from absl import flags

from acai_tf import model_hparams
from acai_tf.cli import flag_defs
from acai_tf.config import ConfigError, ExperimentConfig, ModelConfig

# config.json as the code before typed hyperparameters wrote it for
# `--model=aae --disc_layer_sizes=100,100 --update_order=simultaneous --adversary_lr=0.001`.
AAE_CONFIG_JSON = """{
  "model": {
    "colors": 1,
    "depth": 16,
    "hparams": {
      "adversary_lr": 0.001,
      "disc_layer_sizes": "100,100",
      "update_order": "simultaneous"
    },
    "image_size": 32,
    "latent": 16,
    "latent_width": 2,
    "lr": 0.0001,
    "name": "aae",
    "nclass": 10
  },
  "train": {
    "batch": 64,
    "conv_gradient": "auto",
    "data_dir": null,
    "dataset": "lines32",
    "explosion_factor": 20.0,
    "precision": "float32",
    "report_kimg": 64.0,
    "seed": 0,
    "strategy": "auto",
    "train_kimg": 16384.0
  }
}
"""
# Flags, and the hparams that the code before typed hyperparameters wrote for them.
WRITTEN_HPARAMS = [
    (["--model=dropout", "--dropout=0.75"], {"dropout": 0.75}),
    (["--model=aae", "--disc_layer_sizes=100,100", "--update_order=simultaneous",
      "--adversary_lr=0.001"],
     {"adversary_lr": 0.001, "disc_layer_sizes": "100,100", "update_order": "simultaneous"}),
    (["--advweight=0.25", "--advdepth=8"], {"advdepth": 8, "advweight": 0.25}),
    (["--model=vae", "--encoding=mean", "--beta=2"], {"beta": 2.0, "encoding": "mean"}),
    (["--model=vqvae"], {}),
]


def from_flags(*argv) -> ExperimentConfig:
    values = flags.FlagValues()
    flag_defs.define_flags(values)
    values(["train", *argv, "--workdir=unused"])
    return flag_defs.config_from_flags(values)


def test_a_config_json_of_the_previous_code_loads_equal_and_is_rewritten_identically():
    saved = ExperimentConfig.from_json(AAE_CONFIG_JSON)
    built = from_flags("--model=aae", "--disc_layer_sizes=100,100",
                       "--update_order=simultaneous", "--adversary_lr=0.001")
    assert saved == built
    assert saved.model.hparams.disc_layer_sizes == (100, 100)
    assert built.to_json() == AAE_CONFIG_JSON and saved.to_json() == AAE_CONFIG_JSON


@pytest.mark.parametrize("argv, hparams", WRITTEN_HPARAMS, ids=lambda value: str(value)[:40])
def test_config_json_records_the_hparams_given_as_before(argv, hparams):
    config = from_flags(*argv)
    assert config.to_dict()["model"]["hparams"] == hparams
    assert ExperimentConfig.from_json(config.to_json()) == config


def test_hparams_compare_by_value_whatever_was_given():
    defaults = ModelConfig(name="acai")
    assert ModelConfig(name="acai", hparams={"advweight": 0.5, "reg": 0.2}) == defaults
    assert defaults.hparams == model_hparams.ACAIHParams()
    assert ModelConfig(name="aae", hparams={"disc_layer_sizes": [100, 100]}) == ModelConfig(
        name="aae", hparams={"disc_layer_sizes": "100,100"})
    assert ModelConfig(name="acai", hparams={"advweight": 0.25}) != defaults


@pytest.mark.parametrize("fields, message", [
    ({"name": "nope"}, "unknown model 'nope'"),
    ({"name": "baseline", "hparams": {"advweight": 1.0}}, "has no hyperparameter advweight"),
    ({"name": "vae", "hparams": {"encoding": "median"}}, "encoding must be one of sample, mean"),
    ({"name": "acai", "hparams": model_hparams.VAEHParams()}, "does not take VAEHParams"),
    ({"depth": 0}, "depth must be a positive integer"),
    ({"latent_width": 3}, "latent_width=3 must be a positive divisor of image size 32"),
])
def test_invalid_model_configs_are_config_errors(fields, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**fields)


def test_unknown_fields_and_sections_are_config_errors():
    data = json.loads(AAE_CONFIG_JSON)
    with pytest.raises(ConfigError, match="unknown TrainConfig fields: speed"):
        ExperimentConfig.from_dict({**data, "train": {**data["train"], "speed": 1}})
    with pytest.raises(ConfigError, match="config is missing the 'train' section"):
        ExperimentConfig.from_dict({"model": data["model"]})


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
