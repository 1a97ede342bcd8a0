"""The paper's losses as pure `keras.ops` functions of tensors (no variables, no randomness).

Every function returns per-example values of shape [B] (or takes them), so that a train step
can both average them over the global batch for gradients under tf.distribute and log their
true mean. Random draws (alpha, noise, priors) are made by the caller and passed in; latent
mixing lives in `acai_tf.models.latent_mixing`.
"""

from __future__ import annotations

from keras import ops


def per_example_mse(targets, predictions):
    """Mean squared error of each example over all its elements.

    Args:
        targets, predictions: [B, ...] float tensors of the same shape.

    Returns:
        [B] float; the batch mean equals the reference's `tf.losses.mean_squared_error`.
    """
    squared = ops.square(targets - predictions)
    return ops.mean(ops.reshape(squared, (ops.shape(squared)[0], -1)), axis=1)


def acai_critic_loss(critic_on_mixed, alpha, critic_on_real_blend):
    """ACAI critic loss per example.

    Args:
        critic_on_mixed: [B] critic output on decoded mixes dec(alpha z + (1 - alpha) z').
        alpha: [B] the mixing coefficients the critic must recover.
        critic_on_real_blend: [B] critic output on reg * x + (1 - reg) * x_hat, the
            regulariser term that keeps the critic's output at 0 on near-real images.

    Returns:
        ([B] total, [B] alpha-regression term, [B] regulariser term).
    """
    regression = ops.square(critic_on_mixed - alpha)
    regulariser = ops.square(critic_on_real_blend)
    return regression + regulariser, regression, regulariser


def acai_adversarial_loss(critic_on_mixed):
    """The autoencoder's adversarial term per example: it wants the critic to say alpha = 0."""
    return ops.square(critic_on_mixed)


def real_blend(images, reconstructions, reg):
    """reg * x + (1 - reg) * x_hat: the critic's "real" input (gamma = `reg` in the reference)."""
    return reconstructions + reg * (images - reconstructions)


def sigmoid_cross_entropy(labels, logits):
    """Elementwise sigmoid cross-entropy with logits, numerically stable; labels in [0, 1]."""
    return ops.relu(logits) - logits * labels + ops.log1p(ops.exp(-ops.abs(logits)))


def bernoulli_log_likelihood(images, logits):
    """Per-example Bernoulli log-likelihood of (images + 1) / 2 under sigmoid(logits).

    Args:
        images: [B, H, W, C] in [-1, 1]; the targets are the continuous values (x + 1) / 2.
        logits: [B, H, W, C] decoder outputs.

    Returns:
        [B]: the sum over pixels of log p(x | logits) (the reference's `LL` before batch mean).
    """
    nll = sigmoid_cross_entropy((images + 1.0) / 2.0, logits)
    return -ops.sum(ops.reshape(nll, (ops.shape(nll)[0], -1)), axis=1)


def gaussian_kl(mean, log_variance):
    """Per-example KL(N(mean, exp(log_variance)) || N(0, I)), summed over dimensions.

    Args:
        mean, log_variance: [B, D].

    Returns:
        [B]: 0.5 * sum(-log s^2 - 1 + s^2 + mean^2).
    """
    return 0.5 * ops.sum(-log_variance - 1.0 + ops.exp(log_variance) + ops.square(mean), axis=1)


def aae_discriminator_loss(logits_on_latents, logits_on_prior):
    """AAE discriminator loss per example: latents are fake (0), prior draws real (1).

    Args:
        logits_on_latents, logits_on_prior: [B] discriminator logits.
    """
    return (sigmoid_cross_entropy(0.0, logits_on_latents)
            + sigmoid_cross_entropy(1.0, logits_on_prior))


def aae_generator_loss(logits_on_latents):
    """AAE encoder's adversarial loss per example: it wants its latents called real (1)."""
    return sigmoid_cross_entropy(1.0, logits_on_latents)


def softmax_cross_entropy(labels, logits):
    """Per-example sparse softmax cross-entropy.

    Args:
        labels: [B] integer classes in [0, nclass).
        logits: [B, nclass].
    """
    return ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)


def vq_commitment_loss(inputs, quantized):
    """Per-example commitment term mean((x - sg(q))^2) of the VQ-VAE bottleneck.

    Args:
        inputs: [B, N, D] continuous vectors before quantisation.
        quantized: [B, N, D] their nearest codes (gradients stopped here).
    """
    diff = ops.square(inputs - ops.stop_gradient(quantized))
    return ops.mean(ops.reshape(diff, (ops.shape(diff)[0], -1)), axis=1)
