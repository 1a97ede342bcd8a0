"""ACAI: an autoencoder whose decoded latent mixes fool a critic that regresses the mix ratio.

Critic loss  ||d(dec(a z + (1-a) z'))  - a||^2 + ||d(g x + (1-g) x_hat)||^2   (g = `reg`)
AE loss      ||x - x_hat||^2 + l ||d(dec(a z + (1-a) z'))||^2                 (l = `advweight`)
with a ~ U[0, 1] folded to [0, 0.5] and z' the reversed batch's latents. `update_order` is
"alternating" (default: the critic updates first, the autoencoder trains against the updated
critic) or "simultaneous" (the reference's), see `adversarial`.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from acai_tf import model_hparams
from acai_tf.models import latent_mixing, losses, networks
from acai_tf.models import adversarial, base, global_batch, registry

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
                                           cfg.scales, dtype=self.precision, seed=self.seed)

    def compile(self, *args, critic_optimizer=None, **kwargs):
        """As `FitTraining.compile`, and the critic's optimizer (default Adam at the lr)."""
        super().compile(*args, **kwargs)
        self.critic_optimizer = self.prepare_optimizer(critic_optimizer,
                                                       self.critic.trainable_variables)

    @property
    def optimizers_by_role(self):
        return {**super().optimizers_by_role, "critic": self.critic_optimizer}

    def update_networks(self, images):
        batch = tf.shape(images)[0]
        alpha = latent_mixing.fold_alpha(
            self.draw(tf.random.stateless_uniform, batch, (1, 1, 1), _ALPHA_SALT))  # [b,1,1,1]
        alpha_flat = ops.reshape(alpha, (-1,))
        # The autoencoder's forward pass, on its tape for its turn below.
        with tf.GradientTape() as ae_tape:
            latents = self.encoder(images, training=True)
            mixed = latent_mixing.mix_with_reversed_batch(latents, alpha)
            # Separate calls here and on the critic below, not one call on a 2b concatenation:
            # independent branches (the reconstructions' backward pass, the critic's pass on the
            # blends) then run side by side on the cores. That is about 1.2x img/s on a 2-core
            # CPU with oneDNN, and no slower without (benchmarks/README.md).
            reconstructions = self.decoder(latents, training=True)
            decoded_mixes = self.decoder(mixed, training=True)
            reconstruction = losses.per_example_mse(images, reconstructions)
            blend = losses.real_blend(images, reconstructions, self.hp.reg)

        # Critic: regress alpha on the decoded mixes, 0 on the real/reconstruction blends.
        order = self.hp.update_order
        with tf.GradientTape() as critic_tape, adversarial.also_recording(ae_tape, order):
            critic_on_mixes = self.critic(decoded_mixes)
            critic_loss, critic_alpha, critic_real = losses.acai_critic_loss(
                critic_on_mixes, alpha_flat, self.critic(blend))
        global_batch.apply_mean_gradient(self.critic_optimizer, critic_tape, critic_loss,
                                         self.critic.trainable_variables)
        logs = {"losses/critic": critic_loss, "losses/critic_alpha": critic_alpha,
                "losses/critic_real": critic_real, "monitors/alpha_mean": alpha_flat}

        # Autoencoder: reconstruct, and fool the critic into seeing alpha = 0 in the mixes.
        with ae_tape:
            critic_on_mixes = adversarial.output_to_fool(
                order, critic_on_mixes, lambda: self.critic(decoded_mixes))
            logs["losses/ae_adversarial"] = losses.acai_adversarial_loss(critic_on_mixes)
            ae_loss = reconstruction + self.hp.advweight * logs["losses/ae_adversarial"]
        global_batch.apply_mean_gradient(self.optimizer, ae_tape, ae_loss,
                                         self.autoencoder_variables)
        logs.update({"losses/reconstruction": reconstruction, "losses/ae": ae_loss})
        return self.classifier_features(images, latents), logs
