"""The hyperparameters of the paper's seven autoencoders, one frozen dataclass per model.

Names, defaults and meanings are the reference code's (spec §3). Each model class points at its
dataclass (`HPARAMS`) and reads `self.hp.<name>`; configs, flags and config.json derive from
these declarations (see `acai_tf.hparams`). This module imports no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Mapping

from acai_tf.hparams import ConfigError, HParams, IntList, hparam

UPDATE_ORDER_HELP = "adversary update before the AE's, or from one forward pass"
UPDATE_ORDERS = ("alternating", "simultaneous")
# Model name -> class, in declaration order: also the order in which the flag help names the
# models taking a shared flag ("ACAI/AAE: ...").
BY_MODEL: dict[str, type[HParams]] = {}


@typing.dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, hparam))
def _declare(model: str, label: str):
    """Makes the decorated class a frozen dataclass of `model`'s hyperparameters, registered."""

    def declare(cls):
        cls = dataclasses.dataclass(frozen=True)(cls)
        cls.MODEL, cls.LABEL = model, label
        BY_MODEL[model] = cls
        return cls

    return declare


@_declare("acai", "ACAI")
class ACAIHParams(HParams):
    """ACAI (paper §3): the critic's regulariser and the adversarial loss weight."""

    advweight: float = hparam(0.5, "weight of the adversarial AE loss (lambda)")
    reg: float = hparam(0.2, "critic regulariser blend gamma")
    advdepth: int = hparam(0, "critic depth (0 = --depth)")
    # alternating: the critic steps first and the AE trains against the updated critic.
    update_order: str = hparam("alternating", UPDATE_ORDER_HELP, choices=UPDATE_ORDERS)


@_declare("baseline", "Baseline")
class BaselineHParams(HParams):
    """The baseline autoencoder takes none."""


@_declare("dropout", "Dropout AE")
class DropoutHParams(HParams):
    """Dropout AE: a keep probability (the paper's CIFAR-10 runs used 0.75)."""

    dropout: float = hparam(0.5, "KEEP probability of latent units",
                            check=lambda keep: 0.0 < keep <= 1.0,
                            requirement="a keep probability in (0, 1]")


@_declare("denoising", "Denoising AE")
class DenoisingHParams(HParams):
    """Denoising AE: the std of the Gaussian input noise, in units of the [-1, 1] data."""

    noise: float = hparam(1.0, "std of the input noise (data in [-1, 1])",
                          check=lambda std: std >= 0, requirement="non-negative")


@_declare("vae", "VAE")
class VAEHParams(HParams):
    """beta-VAE; `encoding="sample"` keeps the reference's noisy encode."""

    beta: float = hparam(1.0, "KL weight")
    encoding: str = hparam("sample", "latent used by encode (the reference: a sample)",
                           choices=("sample", "mean"))


@_declare("aae", "AAE")
class AAEHParams(HParams):
    """Adversarial AE: the latent discriminator's learning rate and hidden widths."""

    adversary_lr: float = hparam(1e-4, "discriminator learning rate")
    disc_layer_sizes: IntList = hparam((100, 100), "discriminator widths, e.g. 100,100",
                                       check=lambda sizes: bool(sizes) and min(sizes) > 0,
                                       requirement="positive integers")
    update_order: str = hparam("alternating", UPDATE_ORDER_HELP, choices=UPDATE_ORDERS)


@_declare("vqvae", "VQ-VAE")
class VQVAEHParams(HParams):
    """VQ-VAE with an EMA codebook (the last three have no flag; tests shrink them)."""

    z_log_size: int = hparam(14, "log2 of the codebook size")
    beta: float = hparam(10.0, "commitment weight")
    num_latents: int = hparam(10, "vectors quantised per example")
    decay: float = hparam(0.999, "EMA decay of the codebook", flag=False)
    epsilon: float = hparam(1e-5, "Laplace smoothing of the codebook counts", flag=False)
    filter_size: int = hparam(512, "width of the MLP after quantisation", flag=False)


def for_model(name: str) -> type[HParams]:
    """The hyperparameter class of the model registered as `name`."""
    try:
        return BY_MODEL[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; known models: "
                          f"{', '.join(sorted(BY_MODEL))}") from None


def resolve(name: str, given: HParams | Mapping[str, Any]) -> HParams:
    """The typed hyperparameters of model `name` from an instance or a mapping of overrides."""
    return for_model(name).resolve(given)
