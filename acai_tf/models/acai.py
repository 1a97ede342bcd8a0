"""ACAI: an autoencoder whose decoded latent mixes fool a critic that regresses the mix ratio.

Critic loss  ||d(dec(a z + (1-a) z'))  - a||^2 + ||d(g x + (1-g) x_hat)||^2   (g = `reg`)
AE loss      ||x - x_hat||^2 + l ||d(dec(a z + (1-a) z'))||^2                 (l = `advweight`)
with a ~ U[0, 1] folded to [0, 0.5] and z' the reversed batch's latents.

`update_order="alternating"` (default) updates the critic first and then the autoencoder against
the updated critic, reusing the autoencoder's forward pass (it does not depend on the critic).
`"simultaneous"` applies both updates from one forward pass, as the reference code does.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from acai_tf import losses, model_hparams, networks
from acai_tf.models import base, registry

_ALPHA_SALT = 1


@keras.saving.register_keras_serializable(package="acai_tf")
@registry.register("acai")
class ACAI(base.Autoencoder):
    """Adversarially constrained autoencoder interpolation (paper §3)."""

    HPARAMS = model_hparams.ACAIHParams
    LOG_KEYS = ("losses/reconstruction", "losses/ae", "losses/ae_adversarial", "losses/critic",
                "losses/critic_alpha", "losses/critic_real", "monitors/alpha_mean")

    def build_extra_layers(self):
        cfg = self.model_config
        self.critic = networks.make_critic(cfg.image_size, cfg.colors,
                                           self.hp.advdepth or cfg.depth, cfg.latent,
                                           cfg.scales, dtype=self.precision)

    def make_extra_optimizers(self):
        return {"critic": (base.make_adam(self.model_config.lr), self.critic.trainable_variables)}

    def autoencoder_update(self, images):
        batch = tf.shape(images)[0]
        alpha = losses.fold_alpha(
            self.draw(tf.random.stateless_uniform, batch, (1, 1, 1), _ALPHA_SALT))
        alpha_flat = ops.reshape(alpha, (-1,))
        reg, advweight = self.hp.reg, self.hp.advweight
        ae_variables = self.autoencoder_variables
        critic_variables = self.critic.trainable_variables
        simultaneous = self.hp.update_order == "simultaneous"
        with tf.GradientTape(persistent=simultaneous) as ae_tape:
            latents = self.encoder(images, training=True)
            mixed = losses.mix_latents(latents, alpha)
            # One decoder call on 2b latents: larger convolutions run faster than two calls.
            decoded = self.decoder(ops.concatenate([latents, mixed], axis=0), training=True)
            reconstructions, decoded_mixes = decoded[:batch], decoded[batch:]
            reconstruction = losses.per_example_mse(images, reconstructions)
            blend = losses.real_blend(images, reconstructions, reg)
            if simultaneous:
                critic_out = self.critic(ops.concatenate([decoded_mixes, blend], axis=0))
                critic_on_mixes = critic_out[:batch]
                critic_loss, critic_alpha, critic_real = losses.acai_critic_loss(
                    critic_on_mixes, alpha_flat, critic_out[batch:])
            else:
                with ae_tape.stop_recording():
                    critic_loss, critic_alpha, critic_real = self._critic_update(
                        ops.stop_gradient(decoded_mixes), alpha_flat,
                        ops.stop_gradient(blend), critic_variables)
                # The critic's variables were just updated; this call reads the new values.
                critic_on_mixes = self.critic(decoded_mixes)
            adversarial = losses.acai_adversarial_loss(critic_on_mixes)
            ae_loss = reconstruction + advweight * adversarial
        if simultaneous:
            self.apply_gradients(self.critic_optimizer, ae_tape, critic_loss, critic_variables)
        self.apply_gradients(self.optimizer, ae_tape, ae_loss, ae_variables)
        del ae_tape
        logs = {"losses/reconstruction": reconstruction, "losses/ae": ae_loss,
                "losses/ae_adversarial": adversarial, "losses/critic": critic_loss,
                "losses/critic_alpha": critic_alpha, "losses/critic_real": critic_real,
                "monitors/alpha_mean": alpha_flat}
        return self.classifier_features(images, latents), logs

    def _critic_update(self, decoded_mixes, alpha, blend, variables):
        batch = tf.shape(alpha)[0]
        with tf.GradientTape() as tape:
            critic_out = self.critic(ops.concatenate([decoded_mixes, blend], axis=0))
            total, regression, regulariser = losses.acai_critic_loss(
                critic_out[:batch], alpha, critic_out[batch:])
        self.apply_gradients(self.critic_optimizer, tape, total, variables)
        return total, regression, regulariser
