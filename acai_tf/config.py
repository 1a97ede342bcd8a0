"""Frozen configuration dataclasses: everything needed to rebuild a model or a training run.

`ModelConfig` describes the networks and the model-specific hyperparameters; `TrainConfig` the
data, schedule and distribution. `ExperimentConfig` pairs them and round-trips through the JSON
that every workdir holds (`config.json`), which is how evaluation and export rebuild a model.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Mapping

from acai_tf import model_hparams
from acai_tf.explosion import DEFAULT_FACTOR
from acai_tf.hparams import ConfigError, HParams  # ConfigError: the error of every config.

__all__ = ["CONFIG_FILENAME", "CONV_GRADIENTS", "ConfigError", "ExperimentConfig", "ModelConfig",
           "PRECISIONS", "TrainConfig", "scales_for"]

CONFIG_FILENAME = "config.json"
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
# Kept equal to acai_tf.speed.fast_conv.GRADIENT_PATHS (tested); this module imports no TensorFlow.
CONV_GRADIENTS = ("auto", "stock", "forward")


def scales_for(image_size: int, latent_width: int) -> int:
    """Number of 2x down/up-sampling stages between the image and the latent map.

    The reference derives it as round(log2(image_size / latent_width)); it must be exact here
    because the decoder has to reproduce `image_size` from the latent map.
    """
    if latent_width <= 0 or image_size % latent_width:
        raise ConfigError(
            f"latent_width={latent_width} must be a positive divisor of image size {image_size}")
    ratio = image_size // latent_width
    scales = int(round(math.log2(ratio)))
    if 2**scales != ratio:
        raise ConfigError(
            f"image size {image_size} / latent_width {latent_width} = {ratio} is not a power of 2")
    return scales


class _Record:
    """The dict/JSON round trip of a frozen config dataclass."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]):
        """The config `data` describes; a field this version does not know is a ConfigError."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown {cls.__name__} fields: {', '.join(unknown)}")
        return cls(**data)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelConfig(_Record):
    """Architecture and hyperparameters of one autoencoder.

    Attributes:
        name: registered model name (`acai`, `baseline`, `dropout`, `denoising`, `vae`, `aae`,
            `vqvae`).
        image_size: height = width of the square input images, in pixels.
        colors: image channels (1 or 3).
        nclass: classes of the in-training latent classifier (1 for unlabelled data).
        depth: channels of the first conv stage; stage s has depth * 2**s.
        latent: channels of the latent map.
        latent_width: height = width of the latent map; latent dim = latent_width**2 * latent.
        lr: Adam learning rate of the autoencoder and of the latent classifier.
        hparams: the model's typed hyperparameters (`acai_tf.model_hparams`); a mapping of
            values by their reference names (e.g. {"advweight": 0.25}, as config.json holds
            them) is accepted and resolved, missing ones taking the model's defaults.
    """

    name: str = "acai"
    image_size: int = 32
    colors: int = 1
    nclass: int = 10
    depth: int = 16
    latent: int = 16
    latent_width: int = 2
    lr: float = 1e-4
    hparams: HParams | Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        for field in ("image_size", "colors", "nclass", "depth", "latent", "latent_width"):
            value = getattr(self, field)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{field} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise ConfigError(f"lr must be positive, got {self.lr!r}")
        scales_for(self.image_size, self.latent_width)
        object.__setattr__(self, "hparams", model_hparams.resolve(self.name, self.hparams))

    @property
    def scales(self) -> int:
        return scales_for(self.image_size, self.latent_width)

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """Shape of one latent map: (latent_width, latent_width, latent)."""
        return (self.latent_width, self.latent_width, self.latent)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, self.colors)

    def to_dict(self) -> dict[str, Any]:
        """JSON values; hparams as the values given (`HParams.overrides`), as config.json holds
        them: a run without model flags records {}."""
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        return {**data, "hparams": self.hparams.overrides()}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig(_Record):
    """Data, schedule and distribution of one training run (durations in kimg, as the paper).

    Attributes:
        dataset: dataset name (`lines32`, `mnist32`, ..., or `tfds:NAME`).
        data_dir: tensorflow-datasets directory; None means the library default.
        batch: global batch size, split over replicas.
        train_kimg: training length in thousands of images.
        report_kimg: period of evaluations, summaries and checkpoints in thousands of images.
        seed: seed of the data stream, the weight initialisation and every random draw.
        strategy: distribution strategy name (see `acai_tf.training.distribute`).
        precision: "float32", or a Keras mixed policy for the conv networks: "mixed_bfloat16"
            or "mixed_float16" (with loss scaling). Variables, losses and logs stay float32.
        conv_gradient: how the 3x3 convolutions are differentiated: "auto" (the fastest for
            this machine), "stock" or "forward" (see `acai_tf.speed.fast_conv`); same values either
            way.
        explosion_factor: stop when a loss's recent mean exceeds this factor times its
            reference level (see `acai_tf.explosion`); 0 turns the check off.
    """

    dataset: str = "lines32"
    data_dir: str | None = None
    batch: int = 64
    train_kimg: float = 16384
    report_kimg: float = 64
    seed: int = 0
    strategy: str = "auto"
    precision: str = "float32"
    conv_gradient: str = "auto"
    explosion_factor: float = DEFAULT_FACTOR

    def __post_init__(self):
        if not isinstance(self.batch, int) or self.batch <= 0:
            raise ConfigError(f"batch must be a positive integer, got {self.batch!r}")
        for field, allowed in (("precision", PRECISIONS), ("conv_gradient", CONV_GRADIENTS)):
            if getattr(self, field) not in allowed:
                raise ConfigError(f"{field} must be one of {', '.join(allowed)}, "
                                  f"got {getattr(self, field)!r}")
        if not (self.explosion_factor == 0 or self.explosion_factor > 1):
            raise ConfigError("explosion_factor must be 0 (no check) or greater than 1, got "
                              f"{self.explosion_factor!r}")
        for field in ("train_kimg", "report_kimg"):
            if not getattr(self, field) > 0:
                raise ConfigError(f"{field} must be positive, got {getattr(self, field)!r}")

    @property
    def total_steps(self) -> int:
        """Optimizer steps for `train_kimg`, rounded up to whole batches."""
        return math.ceil(self.train_kimg * 1024 / self.batch)

    @property
    def steps_per_report(self) -> int:
        return max(1, math.ceil(self.report_kimg * 1024 / self.batch))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExperimentConfig:
    """A model and the run that trains it: the content of a workdir's `config.json`."""

    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model.to_dict(), "train": self.train.to_dict()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_resolved_dict(self) -> dict[str, Any]:
        """`to_dict`, with every hyperparameter of the model (defaults included): the form in
        which two configs compare and runs are shown side by side."""
        data = self.to_dict()
        data["model"]["hparams"] = self.model.hparams.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ExperimentConfig":
        try:
            return cls(model=ModelConfig.from_dict(data["model"]),
                       train=TrainConfig.from_dict(data["train"]))
        except KeyError as missing:
            raise ConfigError(f"config is missing the {missing} section") from None

    @classmethod
    def from_json(cls, text: str) -> "ExperimentConfig":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as error:
            raise ConfigError(f"config is not valid JSON: {error}") from None

