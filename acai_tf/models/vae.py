"""Variational autoencoder with a Bernoulli likelihood on (x + 1) / 2.

Loss = -(LL - beta KL), LL and KL summed over dimensions and averaged over the batch. The conv
encoder's flattened output feeds two dense heads (mean and log-variance, each of the latent
dimension); the decoder outputs logits and images are 2 sigmoid(logits) - 1.

Reference quirk kept as the default: `encode` returns a random sample z = mean + sigma * eps, so
interpolation endpoints and clustering features are noisy. `encoding="mean"` returns the mean.
The latent classifier sees the pre-bottleneck conv features, as in the reference.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from acai_tf import model_hparams
from acai_tf.models import losses, networks
from acai_tf.models import base, global_batch, registry

_EPSILON_SALT = 4


@keras.saving.register_keras_serializable(package="acai_tf")
@registry.register("vae")
class VAE(base.Autoencoder):
    """beta-VAE on the paper's conv networks."""

    HPARAMS = model_hparams.VAEHParams
    LOG_KEYS = ("losses/reconstruction", "losses/kl", "losses/log_likelihood", "losses/elbo")

    def build_extra_layers(self):
        dim = self.latent_dim
        self.mean_head = networks.dense(dim, "latent_mean", self.seed)
        self.log_variance_head = networks.dense(dim, "latent_log_variance", self.seed)
        self.mean_head.build((None, dim))
        self.log_variance_head.build((None, dim))
        self.sample_seed = keras.random.SeedGenerator(self.seed, name="sample_seed")

    @property
    def autoencoder_variables(self):
        return (super().autoencoder_variables + self.mean_head.trainable_variables
                + self.log_variance_head.trainable_variables)

    def posterior(self, images, training: bool = False):
        """Images [B, S, S, c] -> (mean [B, D], log-variance [B, D], conv features [B, D])."""
        features = ops.reshape(self.encoder(images, training=training),
                               (ops.shape(images)[0], -1))
        return self.mean_head(features), self.log_variance_head(features), features

    def _to_map(self, flat):
        return ops.reshape(flat, (-1,) + tuple(self.model_config.latent_shape))

    def encode(self, images, training: bool = False):
        mean, log_variance, _ = self.posterior(images, training)
        if self.hp.encoding == "mean":
            return self._to_map(mean)
        noise = keras.random.normal(ops.shape(mean), seed=self.sample_seed)
        return self._to_map(mean + ops.exp(0.5 * log_variance) * noise)

    def decode(self, latents, training: bool = False):
        return 2.0 * ops.sigmoid(self.decoder(latents, training=training)) - 1.0

    def classifier_features(self, images, latents=None):
        return ops.reshape(self.encoder(images), (ops.shape(images)[0], -1))

    def update_networks(self, images):
        variables = self.autoencoder_variables
        noise = self.draw(tf.random.stateless_normal, tf.shape(images)[0], (self.latent_dim,),
                          _EPSILON_SALT)
        with tf.GradientTape() as tape:
            mean, log_variance, features = self.posterior(images, training=True)
            z = mean + ops.exp(0.5 * log_variance) * noise
            logits = self.decoder(self._to_map(z), training=True)
            log_likelihood = losses.bernoulli_log_likelihood(images, logits)
            kl = losses.gaussian_kl(mean, log_variance)
            loss = -(log_likelihood - self.hp.beta * kl)
        global_batch.apply_mean_gradient(self.optimizer, tape, loss, variables)
        reconstruction = losses.per_example_mse(images, 2.0 * ops.sigmoid(logits) - 1.0)
        logs = {"losses/reconstruction": reconstruction, "losses/kl": kl,
                "losses/log_likelihood": log_likelihood, "losses/elbo": log_likelihood - kl}
        return features, logs
