"""Denoising autoencoder: reconstructs clean images from inputs with Gaussian noise."""

from __future__ import annotations

import keras
import tensorflow as tf

from acai_tf import model_hparams
from acai_tf.models import baseline, registry

_NOISE_SALT = 3


@keras.saving.register_keras_serializable(package="acai_tf")
@registry.register("denoising")
class DenoisingAE(baseline.Baseline):
    """Baseline trained on x + N(0, noise^2) (noise 1.0 on [-1, 1] data, no clipping)."""

    HPARAMS = model_hparams.DenoisingHParams

    def corrupt_images(self, images):
        noise = self.draw(tf.random.stateless_normal, tf.shape(images)[0],
                          self.model_config.image_shape, _NOISE_SALT)
        return images + self.hp.noise * noise
