"""`Autoencoder`: what every model of the paper shares.

A model owns an encoder, a decoder, the paper's single-layer latent classifier (trained on
`stop_gradient` features with its own optimizer, for Table 2) and its metric trackers. Each
model's `update_networks` runs one step of its own losses and optimizers; `FitTraining` adds the
classifier's and the rest of what fit() needs. Steps follow the rules of `global_batch` under
tf.distribute, and trackers receive unscaled per-example values, so logged losses are true means.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

import keras
import tensorflow as tf
from keras import ops

from acai_tf import model_hparams
from acai_tf.models import latent_mixing, networks
from acai_tf.config import ModelConfig
from acai_tf.models.fit_training import FitTraining


class Autoencoder(FitTraining, keras.Model):
    """Images are float32 [B, S, S, colors] in [-1, 1]; latents are [B, w, w, latent] maps."""

    HPARAMS: ClassVar[type[model_hparams.HParams]] = model_hparams.HParams
    LOG_KEYS: ClassVar[tuple[str, ...]] = ("losses/reconstruction",)
    registered_name: ClassVar[str] = ""

    def __init__(self, config: ModelConfig, seed: int = 0, precision: str = "float32",
                 **kwargs):
        """Builds every network; the initial weights are a function of `seed` alone (each
        layer's initialiser is seeded, see `networks.layer_seed`).

        `precision` is the dtype policy of the conv networks (their outputs are float32 under
        every policy); it is not part of `get_config`, so a rebuilt model is float32.
        """
        kwargs.setdefault("name", config.name)
        super().__init__(**kwargs)
        self.model_config, self.seed, self.precision = config, int(seed), precision
        self.hp = self.resolve_hparams(config.hparams)
        net = dict(depth=config.depth, latent=config.latent, scales=config.scales,
                   dtype=precision, seed=self.seed)
        self.encoder = networks.make_encoder(config.image_size, config.colors, **net)
        self.decoder = networks.make_decoder(config.latent_width, colors=config.colors, **net)
        self.build_extra_layers()
        self.classifier = networks.dense(config.nclass, "latent_classifier", self.seed)
        self.classifier.build((None, self.latent_dim))
        log_keys = self.LOG_KEYS + ("losses/classifier", "monitors/classifier_accuracy")
        # Keras variable names may not contain "/", so trackers get flat names.
        self.trackers = {key: keras.metrics.Mean(name=key.replace("/", "_")) for key in log_keys}
        self.built = True

    @classmethod
    def resolve_hparams(cls, given: model_hparams.HParams | Mapping[str, Any]
                        ) -> model_hparams.HParams:
        """`given` (an instance, or values by name over the defaults) as the model's typed
        hyperparameters, an `HPARAMS` instance; an unknown name or bad value is a ConfigError."""
        return cls.HPARAMS.resolve(given)

    def get_config(self) -> dict[str, Any]:
        return {"config": self.model_config.to_dict(), "seed": self.seed}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Autoencoder":
        return cls(ModelConfig.from_dict(config["config"]), seed=config.get("seed", 0))

    @property
    def latent_dim(self) -> int:
        width, _, channels = self.model_config.latent_shape
        return width * width * channels

    def build_extra_layers(self) -> None:
        """Creates and builds the model's own layers (after the encoder and decoder)."""

    @property
    def autoencoder_variables(self) -> list:
        return self.encoder.trainable_variables + self.decoder.trainable_variables

    def update_networks(self, images) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        """One step of the model's own losses and optimizers (all but the classifier's).

        Args:
            images: [b, S, S, colors] local batch in [-1, 1].

        Returns:
            (classifier features [b, latent_dim] (gradients stopped by the caller),
             per-example log values {key: [b]} for the keys of LOG_KEYS).
        """
        raise NotImplementedError

    def encode(self, images, training: bool = False):
        """Images [B, S, S, colors] in [-1, 1] -> latents [B, w, w, latent]."""
        return self.encoder(images, training=training)

    def decode(self, latents, training: bool = False):
        """Latents [B, w, w, latent] -> images [B, S, S, colors] (trained towards [-1, 1])."""
        return self.decoder(latents, training=training)

    def reconstruct(self, images):
        """Images [B, S, S, colors] -> decode(encode(images)), same shape."""
        return self.decode(self.encode(images))

    def classifier_features(self, images, latents=None):
        """Features [B, latent_dim] the latent classifier sees: by default the flat latents."""
        if latents is None:
            latents = self.encode(images)
        return ops.reshape(latents, (ops.shape(latents)[0], -1))

    def classify(self, images):
        """Logits [B, nclass] of the in-training latent classifier."""
        return self.classifier(self.classifier_features(images))

    def interpolate(self, images_a, images_b, steps: int = 16, method: str = "linear"):
        """Decodes `steps` >= 2 latent interpolants from each image in `images_a` to its partner
        in `images_b` (both [B, S, S, colors] in [-1, 1]), by `latent_mixing.interpolate_latents`
        with `method` "linear" or "spherical".

        Returns:
            [B, steps, S, S, colors]; the first and last images are reconstructions.
        """
        if method not in latent_mixing.METHODS:
            raise ValueError(f"method must be 'linear' or 'spherical', got {method!r}")
        z_a, z_b = self.encode(images_a), self.encode(images_b)
        mixed = latent_mixing.interpolate_latents(z_a, z_b, steps, method == "spherical")
        decoded = self.decode(ops.reshape(mixed, (-1,) + tuple(self.model_config.latent_shape)))
        return ops.reshape(decoded, (-1, steps) + tuple(self.model_config.image_shape))

    def call(self, images, training: bool = False):
        return self.reconstruct(images)
