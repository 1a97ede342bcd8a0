"""Autoencoder with dropout on the flattened latent code during training."""

from __future__ import annotations

import keras
import tensorflow as tf

from acai_tf import model_hparams
from acai_tf.models import baseline, registry

_MASK_SALT = 2


@keras.saving.register_keras_serializable(package="acai_tf")
@registry.register("dropout")
class DropoutAE(baseline.Baseline):
    """Baseline whose training decodes a dropped-out code.

    `dropout` is a KEEP probability, as in the reference flag (0.5; the paper's CIFAR-10 runs
    used 0.75): kept units are scaled by 1 / keep. Encoding and reconstruction use no dropout.
    """

    HPARAMS = model_hparams.DropoutHParams

    def corrupt_latents(self, latents):
        keep = self.hp.dropout
        uniform = self.draw(tf.random.stateless_uniform, tf.shape(latents)[0],
                            self.model_config.latent_shape, _MASK_SALT)
        return tf.where(uniform < keep, latents / keep, tf.zeros_like(latents))
