"""Adversarial autoencoder: a latent discriminator pushes the codes towards N(0, I).

Discriminator: flatten -> dense(100, leaky 0.2) -> dense(100, leaky 0.2) -> dense(1) (sizes
from `disc_layer_sizes`), trained with Adam(`adversary_lr`) to call prior draws real and codes
fake. The autoencoder minimises MSE + BCE(D(z), real). `update_order` is as in ACAI: by default
the discriminator updates first and the autoencoder trains against the updated discriminator.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from acai_tf import losses, model_hparams
from acai_tf.models import base, registry

_PRIOR_SALT = 5


@keras.saving.register_keras_serializable(package="acai_tf")
@registry.register("aae")
class AAE(base.Autoencoder):
    """Adversarial autoencoder with a Gaussian prior on the flattened latent."""

    HPARAMS = model_hparams.AAEHParams
    LOG_KEYS = ("losses/reconstruction", "losses/ae", "losses/ae_adversarial",
                "losses/discriminator", "monitors/adversary_accuracy")

    def build_extra_layers(self):
        hidden = [keras.layers.Dense(size, activation="leaky_relu", name=f"hidden{i}")
                  for i, size in enumerate(self.hp.disc_layer_sizes)]
        self.discriminator = keras.Sequential(
            [keras.Input((self.latent_dim,)), *hidden, keras.layers.Dense(1, name="logit")],
            name="discriminator")

    def make_extra_optimizers(self):
        return {"discriminator": (base.make_adam(self.hp.adversary_lr),
                                  self.discriminator.trainable_variables)}

    def _logits(self, flat):
        return ops.reshape(self.discriminator(flat), (-1,))

    def autoencoder_update(self, images):
        batch = tf.shape(images)[0]
        prior = self.draw(tf.random.stateless_normal, batch, (self.latent_dim,), _PRIOR_SALT)
        ae_variables = self.autoencoder_variables
        disc_variables = self.discriminator.trainable_variables
        simultaneous = self.hp.update_order == "simultaneous"
        with tf.GradientTape(persistent=simultaneous) as ae_tape:
            latents = self.encoder(images, training=True)
            flat = ops.reshape(latents, (batch, -1))
            reconstruction = losses.per_example_mse(
                images, self.decoder(latents, training=True))
            if simultaneous:
                logits = self._logits(ops.concatenate([flat, prior], axis=0))
                on_latents, on_prior = logits[:batch], logits[batch:]
                disc_loss = losses.aae_discriminator_loss(on_latents, on_prior)
            else:
                with ae_tape.stop_recording():
                    with tf.GradientTape() as disc_tape:
                        logits = self._logits(
                            ops.concatenate([ops.stop_gradient(flat), prior], axis=0))
                        on_prior = logits[batch:]
                        disc_loss = losses.aae_discriminator_loss(logits[:batch], on_prior)
                    self.apply_gradients(self.discriminator_optimizer, disc_tape, disc_loss,
                                         disc_variables)
                on_latents = self._logits(flat)  # Against the updated discriminator.
            adversarial = losses.aae_generator_loss(on_latents)
            ae_loss = reconstruction + adversarial
        if simultaneous:
            self.apply_gradients(self.discriminator_optimizer, ae_tape, disc_loss, disc_variables)
        self.apply_gradients(self.optimizer, ae_tape, ae_loss, ae_variables)
        del ae_tape
        # Mean of the accuracies on codes (fake) and prior draws (real), per example pair.
        accuracy = 0.5 * (ops.cast(on_latents < 0, "float32") + ops.cast(on_prior > 0, "float32"))
        logs = {"losses/reconstruction": reconstruction, "losses/ae": ae_loss,
                "losses/ae_adversarial": adversarial, "losses/discriminator": disc_loss,
                "monitors/adversary_accuracy": accuracy}
        return flat, logs
