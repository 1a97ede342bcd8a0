"""The training flags, defined once, and their translation into an ExperimentConfig.

`define_flags()` declares every flag as optional; binaries mark the ones they require.
Model-specific flags (`--advweight`, `--dropout`, ...) keep the reference code's names and
default to None: only those given on the command line reach the config, and giving one that the
chosen model does not take is an error. Unset ones take the model's defaults (`HPARAMS`).
"""

from __future__ import annotations

from absl import flags

from acai_tf import datasets, distribute, models
from acai_tf.config import (CONV_GRADIENTS, PRECISIONS, ConfigError, ExperimentConfig,
                            ModelConfig, TrainConfig)

_MODEL_DEFAULTS = ModelConfig()
_TRAIN_DEFAULTS = TrainConfig()

# Model-specific flags: name -> (absl definer, extra definer arguments, meaning).
HPARAM_FLAGS = {
    "advweight": (flags.DEFINE_float, {}, "ACAI: weight of the adversarial AE loss (lambda)."),
    "reg": (flags.DEFINE_float, {}, "ACAI: critic regulariser blend gamma."),
    "advdepth": (flags.DEFINE_integer, {}, "ACAI: critic depth (0 = --depth)."),
    "dropout": (flags.DEFINE_float, {}, "Dropout AE: KEEP probability of latent units."),
    "noise": (flags.DEFINE_float, {}, "Denoising AE: std of the input noise (data in [-1, 1])."),
    "beta": (flags.DEFINE_float, {}, "VAE: KL weight; VQ-VAE: commitment weight."),
    "adversary_lr": (flags.DEFINE_float, {}, "AAE: discriminator learning rate."),
    "disc_layer_sizes": (flags.DEFINE_string, {}, "AAE: discriminator widths, e.g. 100,100."),
    "z_log_size": (flags.DEFINE_integer, {}, "VQ-VAE: log2 of the codebook size."),
    "num_latents": (flags.DEFINE_integer, {}, "VQ-VAE: vectors quantised per example."),
    "update_order": (flags.DEFINE_enum, {"enum_values": ["alternating", "simultaneous"]},
                     "ACAI/AAE: adversary update before the AE's, or from one forward pass."),
    "encoding": (flags.DEFINE_enum, {"enum_values": ["sample", "mean"]},
                 "VAE: latent used by encode (the reference: a sample)."),
}


def _takers(name: str) -> str:
    return ", ".join(model for model in models.names() if name in models.get(model).HPARAMS)


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
    for name, (define, extra, meaning) in HPARAM_FLAGS.items():
        define(name=name, default=None,
               help=f"{meaning} Models: {_takers(name)}; unset = model default.", **extra, **fv)


def config_from_flags(flag_values: flags.FlagValues = flags.FLAGS) -> ExperimentConfig:
    """Builds the ExperimentConfig the parsed flags describe.

    Colors and classes come from the dataset, the image size from --image_size (which only
    folder datasets may change); the dataset is recorded by its canonical name (a folder by its
    absolute path). Raises ConfigError (one line) on an unknown dataset, an image size the
    dataset does not have, a model flag the model does not take, or an invalid value, and
    DatasetNotPreparedError (one line) on a folder that cannot be read.
    """
    fv = flag_values
    model_class = models.get(fv.model)
    hparams = {}
    for name in HPARAM_FLAGS:
        value = fv[name].value
        if value is None:
            continue
        if name not in model_class.HPARAMS:
            takes = ", ".join(f"--{h}" for h in model_class.HPARAMS if h in HPARAM_FLAGS)
            raise ConfigError(f"--{name} does not apply to model {fv.model!r} "
                              f"(it takes: {takes or 'no model flags'})")
        hparams[name] = value
    try:
        info = datasets.get_info(fv.dataset, data_dir=fv.data_dir, image_size=fv.image_size)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    model = ModelConfig(name=fv.model, image_size=info.image_size, colors=info.colors,
                        nclass=info.nclass, depth=fv.depth, latent=fv.latent,
                        latent_width=fv.latent_width, lr=fv.lr, hparams=hparams)
    train = TrainConfig(dataset=info.name, data_dir=fv.data_dir, batch=fv.batch,
                        train_kimg=fv.train_kimg, report_kimg=fv.report_kimg, seed=fv.seed,
                        strategy=fv.strategy, precision=fv.precision,
                        conv_gradient=fv.conv_gradient, explosion_factor=fv.explosion_factor)
    return ExperimentConfig(model=model, train=train)
