"""The plain autoencoder: mean squared reconstruction error only."""

from __future__ import annotations

import keras
import tensorflow as tf

from acai_tf import model_hparams
from acai_tf.models import losses
from acai_tf.models import base, global_batch, registry


@keras.saving.register_keras_serializable(package="acai_tf")
@registry.register("baseline")
class Baseline(base.Autoencoder):
    """Autoencoder trained on ||x - dec(enc(x))||^2."""

    HPARAMS = model_hparams.BaselineHParams

    def corrupt_latents(self, latents):
        """Hook for variants that perturb the code before decoding; identity here."""
        return latents

    def corrupt_images(self, images):
        """Hook for variants that perturb the input before encoding; identity here."""
        return images

    def update_networks(self, images):
        variables = self.autoencoder_variables
        inputs = self.corrupt_images(images)
        with tf.GradientTape() as tape:
            latents = self.encoder(inputs, training=True)
            reconstructions = self.decoder(self.corrupt_latents(latents), training=True)
            reconstruction = losses.per_example_mse(images, reconstructions)
        global_batch.apply_mean_gradient(self.optimizer, tape, reconstruction, variables)
        # The classifier always sees clean latents, as in the reference.
        features = self.classifier_features(images, latents if inputs is images else None)
        return features, {"losses/reconstruction": reconstruction}
