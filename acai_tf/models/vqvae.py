"""VQ-VAE: the conv encoder's code is projected, quantised against a 2^14-entry codebook and
mapped back before decoding.

Pipeline (reference §3.8): z = enc(x) [B, w, w, c]; dense(flatten(z)) -> [B, N * D] with
N = `num_latents` (10) vectors of D = w*w*c dims; each vector snaps to its nearest code
(straight-through gradient); dense(relu(.), 512) -> dense(relu(.), D) -> latent map -> dec.
Loss = MSE + beta * mean((v - sg(code))^2) with beta 10; the codebook follows an EMA of its
assigned vectors, updated explicitly on every training step.

`encode` returns the continuous pre-quantisation z, so interpolations happen there; `decode`
re-applies projection, quantisation and MLP. The latent classifier sees the MLP's output.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from acai_tf import model_hparams
from acai_tf.models import losses, networks
from acai_tf.models import base, global_batch, registry, vector_quantizer


@keras.saving.register_keras_serializable(package="acai_tf")
@registry.register("vqvae")
class VQVAE(base.Autoencoder):
    """VQ-VAE with an EMA codebook, as in the paper's comparison."""

    HPARAMS = model_hparams.VQVAEHParams
    LOG_KEYS = ("losses/reconstruction", "losses/commitment", "losses/ae")

    def build_extra_layers(self):
        dim, count = self.latent_dim, self.hp.num_latents
        self.project = networks.dense(dim * count, "project", self.seed)
        self.project.build((None, dim))
        self.quantizer = vector_quantizer.VectorQuantizer(
            2 ** self.hp.z_log_size, dim, self.hp.decay, self.hp.epsilon,
            seed=networks.layer_seed(self.seed, "quantizer"), name="quantizer")
        self.expand = networks.dense(self.hp.filter_size, "expand", self.seed)
        self.expand.build((None, dim * count))
        self.restore = networks.dense(dim, "restore", self.seed)
        self.restore.build((None, self.hp.filter_size))

    @property
    def autoencoder_variables(self):
        return (super().autoencoder_variables + self.project.trainable_variables
                + self.expand.trainable_variables + self.restore.trainable_variables)

    def bottleneck(self, latents):
        """Latents [B, w, w, c] -> (MLP output [B, D], vectors [B, N, D], codes [B, N, D],
        code indices [B, N])."""
        batch = ops.shape(latents)[0]
        vectors = ops.reshape(self.project(ops.reshape(latents, (batch, -1))),
                              (batch, self.hp.num_latents, self.latent_dim))
        straight_through, codes, indices = self.quantizer(vectors)
        hidden = self.expand(ops.relu(ops.reshape(straight_through, (batch, -1))))
        return self.restore(ops.relu(hidden)), vectors, codes, indices

    def decode(self, latents, training: bool = False):
        dense, _, _, _ = self.bottleneck(latents)
        shape = (-1,) + tuple(self.model_config.latent_shape)
        return self.decoder(ops.reshape(dense, shape), training=training)

    def classifier_features(self, images, latents=None):
        if latents is None:
            latents = self.encode(images)
        return self.bottleneck(latents)[0]

    def update_networks(self, images):
        variables = self.autoencoder_variables
        with tf.GradientTape() as tape:
            latents = self.encoder(images, training=True)
            dense, vectors, codes, indices = self.bottleneck(latents)
            shape = (-1,) + tuple(self.model_config.latent_shape)
            reconstructions = self.decoder(ops.reshape(dense, shape), training=True)
            reconstruction = losses.per_example_mse(images, reconstructions)
            commitment = losses.vq_commitment_loss(vectors, codes)
            loss = reconstruction + self.hp.beta * commitment
        global_batch.apply_mean_gradient(self.optimizer, tape, loss, variables)
        # EMA statistics of the whole global batch, so every replica applies the same update.
        counts, sums = self.quantizer.batch_statistics(vectors, indices)
        counts, sums = tf.distribute.get_replica_context().all_reduce("sum", [counts, sums])
        self.quantizer.ema_update(counts, sums)
        logs = {"losses/reconstruction": reconstruction, "losses/commitment": commitment,
                "losses/ae": loss}
        return dense, logs
