"""Adversarial autoencoder: a latent discriminator pushes the codes towards N(0, I).

Discriminator: flatten -> dense(100, leaky 0.2) -> dense(100, leaky 0.2) -> dense(1) (sizes
from `disc_layer_sizes`), trained with Adam(`adversary_lr`) to call prior draws real and codes
fake. The autoencoder minimises MSE + BCE(D(z), real). `update_order` is as in ACAI (see
`adversarial`): by default the discriminator updates first and the autoencoder trains against
the updated discriminator.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from acai_tf import model_hparams
from acai_tf.models import losses, networks
from acai_tf.models import adversarial, base, global_batch, registry

_PRIOR_SALT = 5


@keras.saving.register_keras_serializable(package="acai_tf")
@registry.register("aae")
class AAE(base.Autoencoder):
    """Adversarial autoencoder with a Gaussian prior on the flattened latent."""

    HPARAMS = model_hparams.AAEHParams
    LOG_KEYS = ("losses/reconstruction", "losses/ae", "losses/ae_adversarial",
                "losses/discriminator", "monitors/adversary_accuracy")

    def build_extra_layers(self):
        hidden = [networks.dense(size, f"hidden{i}", self.seed, activation="leaky_relu")
                  for i, size in enumerate(self.hp.disc_layer_sizes)]
        self.discriminator = keras.Sequential(
            [keras.Input((self.latent_dim,)), *hidden, networks.dense(1, "logit", self.seed)],
            name="discriminator")

    def compile(self, *args, discriminator_optimizer=None, **kwargs):
        """As `FitTraining.compile`, and the discriminator's optimizer (default
        Adam(`adversary_lr`))."""
        super().compile(*args, **kwargs)
        self.discriminator_optimizer = self.prepare_optimizer(
            discriminator_optimizer, self.discriminator.trainable_variables,
            learning_rate=self.hp.adversary_lr)

    @property
    def optimizers_by_role(self):
        return {**super().optimizers_by_role, "discriminator": self.discriminator_optimizer}

    def _logits(self, flat):
        """Flat codes or prior draws [n, D] -> discriminator logits [n] (real > 0)."""
        return ops.reshape(self.discriminator(flat), (-1,))

    def update_networks(self, images):
        batch = tf.shape(images)[0]
        prior = self.draw(tf.random.stateless_normal, batch, (self.latent_dim,), _PRIOR_SALT)
        # The autoencoder's forward pass, on its tape for its turn below.
        with tf.GradientTape() as ae_tape:
            latents = self.encoder(images, training=True)
            flat = ops.reshape(latents, (batch, -1))
            reconstruction = losses.per_example_mse(
                images, self.decoder(latents, training=True))

        # Discriminator: call the prior draws real and the codes fake.
        order = self.hp.update_order
        with tf.GradientTape() as disc_tape, adversarial.also_recording(ae_tape, order):
            logits = self._logits(ops.concatenate([flat, prior], axis=0))
            on_latents, on_prior = logits[:batch], logits[batch:]
            disc_loss = losses.aae_discriminator_loss(on_latents, on_prior)
        global_batch.apply_mean_gradient(self.discriminator_optimizer, disc_tape, disc_loss,
                                         self.discriminator.trainable_variables)

        # Autoencoder: reconstruct, and have the discriminator call the codes real.
        with ae_tape:
            on_latents = adversarial.output_to_fool(order, on_latents, lambda: self._logits(flat))
            adversarial_loss = losses.aae_generator_loss(on_latents)
            ae_loss = reconstruction + adversarial_loss
        global_batch.apply_mean_gradient(self.optimizer, ae_tape, ae_loss,
                                         self.autoencoder_variables)

        # Mean of the accuracies on codes (fake) and prior draws (real), per example pair.
        accuracy = 0.5 * (ops.cast(on_latents < 0, "float32") + ops.cast(on_prior > 0, "float32"))
        logs = {"losses/reconstruction": reconstruction, "losses/ae": ae_loss,
                "losses/ae_adversarial": adversarial_loss, "losses/discriminator": disc_loss,
                "monitors/adversary_accuracy": accuracy}
        return flat, logs
