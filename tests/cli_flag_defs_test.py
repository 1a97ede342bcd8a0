"""acai_tf.cli.flag_defs: the model flags derived from the hyperparameter dataclasses."""

import sys

import pytest
from absl import flags

from acai_tf import model_hparams
from acai_tf.cli import flag_defs
from acai_tf.config import ConfigError

# The model flags' help, type and choices as the binary showed them before they were derived.
HELP = {
    "advweight": "ACAI: weight of the adversarial AE loss (lambda).",
    "reg": "ACAI: critic regulariser blend gamma.",
    "advdepth": "ACAI: critic depth (0 = --depth).",
    "dropout": "Dropout AE: KEEP probability of latent units.",
    "noise": "Denoising AE: std of the input noise (data in [-1, 1]).",
    "beta": "VAE: KL weight; VQ-VAE: commitment weight.",
    "adversary_lr": "AAE: discriminator learning rate.",
    "disc_layer_sizes": "AAE: discriminator widths, e.g. 100,100.",
    "z_log_size": "VQ-VAE: log2 of the codebook size.",
    "num_latents": "VQ-VAE: vectors quantised per example.",
    "update_order": "ACAI/AAE: adversary update before the AE's, or from one forward pass.",
    "encoding": "VAE: latent used by encode (the reference: a sample).",
}
TAKERS = {"beta": "vae, vqvae", "update_order": "aae, acai", "dropout": "dropout",
          "noise": "denoising", "disc_layer_sizes": "aae", "adversary_lr": "aae",
          "encoding": "vae", "z_log_size": "vqvae", "num_latents": "vqvae"}
KINDS = {"advdepth": "int", "z_log_size": "int", "num_latents": "int",
         "disc_layer_sizes": "string", "update_order": "string enum", "encoding": "string enum"}


def flag_values(*argv):
    values = flags.FlagValues()
    flag_defs.define_flags(values)
    values(["train", *argv])
    return values


def test_model_flags_keep_their_names_help_types_and_defaults():
    values = flag_values()
    assert set(flag_defs.hparam_flags()) == set(HELP)
    for name, meaning in HELP.items():
        flag = values[name]
        takers = TAKERS.get(name, "acai")
        assert flag.help.endswith(f"{meaning} Models: {takers}; unset = model default."), name
        assert flag.default is None and flag.flag_type() == KINDS.get(name, "float"), name
    assert values["update_order"].parser.enum_values == ["alternating", "simultaneous"]
    assert values["encoding"].parser.enum_values == ["sample", "mean"]


def test_values_users_type_reach_the_typed_hyperparameters():
    config = flag_defs.config_from_flags(flag_values(
        "--model=aae", "--disc_layer_sizes=100,50", "--update_order=simultaneous"))
    assert config.model.hparams == model_hparams.AAEHParams(
        disc_layer_sizes=(100, 50), update_order="simultaneous")
    acai = flag_defs.config_from_flags(flag_values("--advweight=0.5", "--advdepth=8"))
    assert acai.model.hparams.advweight == 0.5 and acai.model.hparams.advdepth == 8
    assert acai.to_dict()["model"]["hparams"] == {"advweight": 0.5, "advdepth": 8}


@pytest.mark.parametrize("argv, message", [
    (["--model=aae", "--disc_layer_sizes=100,0"], "disc_layer_sizes must be positive integers"),
    (["--model=dropout", "--dropout=1.5"], "dropout must be a keep probability in (0, 1]"),
    (["--model=denoising", "--noise=-1"], "noise must be non-negative"),
    (["--model=baseline", "--beta=2"], "--beta does not apply to model 'baseline' (it takes: "
                                       "no model flags)"),
])
def test_bad_model_flags_are_config_errors(argv, message):
    with pytest.raises(ConfigError) as raised:
        flag_defs.config_from_flags(flag_values(*argv))
    assert message in str(raised.value)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
