"""acai_tf.model_hparams: the reference code's hyperparameters, one class per registered model."""

import sys

import pytest

from acai_tf import model_hparams, models

import tiny

# Spec §4.2's per-model defaults, plus the options this implementation adds.
REFERENCE_DEFAULTS = {
    "acai": {"advweight": 0.5, "reg": 0.2, "advdepth": 0, "update_order": "alternating"},
    "baseline": {},
    "dropout": {"dropout": 0.5},
    "denoising": {"noise": 1.0},
    "vae": {"beta": 1.0, "encoding": "sample"},
    "aae": {"adversary_lr": 1e-4, "disc_layer_sizes": "100,100", "update_order": "alternating"},
    "vqvae": {"z_log_size": 14, "beta": 10.0, "num_latents": 10, "decay": 0.999,
              "epsilon": 1e-5, "filter_size": 512},
}


@pytest.mark.parametrize("name", models.names())
def test_every_model_reads_its_own_class_with_the_reference_defaults(name):
    hparams_class = model_hparams.for_model(name)
    assert models.get(name).HPARAMS is hparams_class and hparams_class.MODEL == name
    assert hparams_class().to_dict() == REFERENCE_DEFAULTS[name]


def test_every_class_belongs_to_a_registered_model():
    assert set(model_hparams.BY_MODEL) == set(models.names())


def test_a_model_holds_its_typed_hyperparameters():
    config = tiny.model_config("aae", hparams={"disc_layer_sizes": "8,4"})
    model = models.build(config)
    assert model.hp == model_hparams.AAEHParams(disc_layer_sizes=(8, 4))
    assert [layer.units for layer in model.discriminator.layers] == [8, 4, 1]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
