"""The training flags, defined once, and their translation into an ExperimentConfig.

`define_flags()` declares every flag as optional; binaries mark the ones they require.
Model-specific flags (`--advweight`, `--dropout`, ...) are derived from the models'
hyperparameter dataclasses (`acai_tf.model_hparams`): name, type, allowed values and help. They
keep the reference code's names and default to None: only those given on the command line reach
the config, and giving one that the chosen model does not take is an error. Unset ones take the
model's defaults.
"""

from __future__ import annotations

import dataclasses
import typing

from absl import flags

from acai_tf import datasets, hparams, model_hparams, models
from acai_tf.training import distribute
from acai_tf.config import (CONV_GRADIENTS, PRECISIONS, ConfigError, ExperimentConfig,
                            ModelConfig, TrainConfig)

_MODEL_DEFAULTS = ModelConfig()
_TRAIN_DEFAULTS = TrainConfig()



def hparam_flags() -> dict[str, list[tuple[type[model_hparams.HParams], dataclasses.Field]]]:
    """Model-specific flag name -> the (hyperparameter class, field) pairs it sets."""
    found: dict[str, list] = {}
    for hparams_class in model_hparams.BY_MODEL.values():
        for field in hparams_class.flag_fields():
            found.setdefault(field.name, []).append((hparams_class, field))
    return found


def _define_hparam_flag(name: str, takers: list, flag_values: flags.FlagValues) -> None:
    """Defines --name (default None) from the fields of the models that take it.

    The help names each model with its meaning ("VAE: KL weight; VQ-VAE: commitment weight."),
    models sharing a meaning together ("ACAI/AAE: ..."), then the models by registered name.
    """
    labels_by_help: dict[str, list[str]] = {}
    for hparams_class, field in takers:
        labels_by_help.setdefault(hparams.spec(field).help, []).append(hparams_class.LABEL)
    meaning = "; ".join(f"{'/'.join(labels)}: {text}" for text, labels in labels_by_help.items())
    models_taking = ", ".join(model for model in models.names()
                              if any(cls.MODEL == model for cls, _ in takers))
    help_text = f"{meaning}. Models: {models_taking}; unset = model default."
    hparams_class, field = takers[0]
    kind, choices = typing.get_type_hints(hparams_class)[name], hparams.spec(field).choices
    arguments = {"name": name, "default": None, "help": help_text, "flag_values": flag_values}
    if choices:
        flags.DEFINE_enum(enum_values=list(choices), **arguments)
    elif kind is float:
        flags.DEFINE_float(**arguments)
    elif kind is int:
        flags.DEFINE_integer(**arguments)
    else:  # str, and IntList as its comma string ("100,100")
        flags.DEFINE_string(**arguments)


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the training flags in `flag_values` (all optional)."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_enum("model", _MODEL_DEFAULTS.name, list(models.names()), "Model to train.",
                      **fv)
    flags.DEFINE_string("dataset", _TRAIN_DEFAULTS.dataset,
                        f"Dataset: {', '.join(datasets.names())}, tfds:NAME, or folder:PATH "
                        "(a directory of PNG/JPEG images, in class subfolders or flat).", **fv)
    flags.DEFINE_integer("image_size", _MODEL_DEFAULTS.image_size,
                         "Height and width of the images; folder: datasets are center-cropped "
                         "and resized to it, the others are 32x32 only.", **fv)
    flags.DEFINE_string("data_dir", None, "tfds data directory (default: $ACAI_TFDS_DIR or "
                        "~/tensorflow_datasets).", **fv)
    flags.DEFINE_string("workdir", None, "Run directory: config, checkpoints, TensorBoard, "
                        "images. An existing run with the same config resumes.", **fv)
    flags.DEFINE_float("train_kimg", _TRAIN_DEFAULTS.train_kimg,
                       "Training length in thousands of images.", **fv)
    flags.DEFINE_float("report_kimg", _TRAIN_DEFAULTS.report_kimg,
                       "Period of evaluations, summaries and checkpoints, in kimg.", **fv)
    flags.DEFINE_integer("batch", _TRAIN_DEFAULTS.batch, "Global batch size.", **fv)
    flags.DEFINE_float("lr", _MODEL_DEFAULTS.lr, "Adam learning rate of the autoencoder.", **fv)
    flags.DEFINE_integer("seed", _TRAIN_DEFAULTS.seed, "Seed of weights, data and draws.", **fv)
    flags.DEFINE_integer("depth", _MODEL_DEFAULTS.depth, "Channels of the first conv stage.",
                         **fv)
    flags.DEFINE_integer("latent", _MODEL_DEFAULTS.latent, "Channels of the latent map.", **fv)
    flags.DEFINE_integer("latent_width", _MODEL_DEFAULTS.latent_width,
                         "Height and width of the latent map.", **fv)
    flags.DEFINE_enum("strategy", _TRAIN_DEFAULTS.strategy, list(distribute.STRATEGIES),
                      "Distribution strategy.", **fv)
    flags.DEFINE_enum("precision", _TRAIN_DEFAULTS.precision, list(PRECISIONS),
                      "Compute dtype of the conv networks (Keras policy); variables, losses and "
                      "logs stay float32, mixed_float16 adds loss scaling.", **fv)
    flags.DEFINE_enum("conv_gradient", _TRAIN_DEFAULTS.conv_gradient, list(CONV_GRADIENTS),
                      "How 3x3 convolutions are differentiated: auto = the faster on this "
                      "machine (stock with oneDNN or on GPU/TPU, forward otherwise).", **fv)
    flags.DEFINE_float("explosion_factor", _TRAIN_DEFAULTS.explosion_factor,
                       "Stop when a loss's mean over the last steps exceeds this factor times "
                       "its recent level (plus a small floor); 0 turns the check off. May "
                       "change on resume.", **fv)
    for name, takers in hparam_flags().items():
        _define_hparam_flag(name, takers, flag_values)


def config_from_flags(flag_values: flags.FlagValues = flags.FLAGS) -> ExperimentConfig:
    """Builds the ExperimentConfig the parsed flags describe.

    Colors and classes come from the dataset, the image size from --image_size (which only
    folder datasets may change); the dataset is recorded by its canonical name (a folder by its
    absolute path). Raises ConfigError (one line) on an unknown dataset, an image size the
    dataset does not have, a model flag the model does not take, or an invalid value, and
    DatasetNotPreparedError (one line) on a folder that cannot be read.
    """
    fv = flag_values
    hparams_class = model_hparams.for_model(fv.model)
    given = {}
    for name in hparam_flags():
        value = fv[name].value
        if value is None:
            continue
        if name not in hparams_class.names():
            takes = ", ".join(f"--{field.name}" for field in hparams_class.flag_fields())
            raise ConfigError(f"--{name} does not apply to model {fv.model!r} "
                              f"(it takes: {takes or 'no model flags'})")
        given[name] = value
    try:
        info = datasets.get_info(fv.dataset, data_dir=fv.data_dir, image_size=fv.image_size)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    model = ModelConfig(name=fv.model, image_size=info.image_size, colors=info.colors,
                        nclass=info.nclass, depth=fv.depth, latent=fv.latent,
                        latent_width=fv.latent_width, lr=fv.lr, hparams=given)
    train = TrainConfig(dataset=info.name, data_dir=fv.data_dir, batch=fv.batch,
                        train_kimg=fv.train_kimg, report_kimg=fv.report_kimg, seed=fv.seed,
                        strategy=fv.strategy, precision=fv.precision,
                        conv_gradient=fv.conv_gradient, explosion_factor=fv.explosion_factor)
    return ExperimentConfig(model=model, train=train)
