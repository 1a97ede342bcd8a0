"""Mixing latent codes: ACAI's training mix and the interpolation paths of evaluation and export.

Pure functions of tensors (no variables, no randomness): the models' `interpolate`, ACAI's train
step and the serving signatures all mix latents here, so a path means the same everywhere.
Latents are float32 maps [B, w, w, c] (any [B, ...] shape works); values are unbounded.
"""

from __future__ import annotations

import tensorflow as tf
from keras import ops

METHODS = ("linear", "spherical")
# Below this sin(angle) slerp divides by ~0 (the reference gives NaN for identical endpoints).
_MIN_SIN_ANGLE = 1e-6


def fold_alpha(uniform):
    """Folds U[0, 1] draws onto [0, 0.5]: alpha = 0.5 - |u - 0.5| (reference ACAI)."""
    return 0.5 - ops.abs(uniform - 0.5)


def mix_with_reversed_batch(latents, alpha):
    """ACAI's training mix: each latent with its partner in the reversed batch.

    Example i is mixed with example B-1-i, so every pair is mixed twice with independent alphas.

    Args:
        latents: [B, h, w, c] latent maps.
        alpha: [B, 1, 1, 1] mixing coefficients in [0, 0.5].

    Returns:
        [B, h, w, c]: alpha * z + (1 - alpha) * z[::-1].
    """
    return alpha * latents + (1.0 - alpha) * ops.flip(latents, axis=0)


def interpolate_latents(z_a, z_b, steps, spherical=False):
    """Interpolants from each latent in `z_a` to its partner in `z_b`, endpoints included.

    Args:
        z_a, z_b: [B, ...] latents with static trailing dimensions.
        steps: number of interpolants per pair, >= 2 (a Python int or an int32 scalar tensor,
            as a serving request gives it).
        spherical: bool (Python or scalar tensor): slerp on the flattened latents instead of a
            straight line. Pairs at an angle below 1e-6 stay linear.

    Returns:
        [B, steps, ...], float32; [:, 0] is z_a and [:, -1] is z_b.
    """
    if isinstance(steps, int) and steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    batch, event_shape = tf.shape(z_a)[0], list(z_a.shape[1:])
    flat_a, flat_b = tf.reshape(z_a, [batch, 1, -1]), tf.reshape(z_b, [batch, 1, -1])
    t = tf.reshape(tf.linspace(0.0, 1.0, steps), [1, -1, 1])
    mixed = spherical_mix(flat_a, flat_b, t, spherical)
    return tf.reshape(mixed, [batch, steps, *event_shape])


def spherical_mix(flat_a, flat_b, t, spherical=True):
    """Slerp (or, if not `spherical`, linear interpolation) between flattened latents.

    Args:
        flat_a, flat_b: [B, 1, D] endpoints.
        t: [1, T, 1] positions in [0, 1].
        spherical: bool, Python or scalar tensor.

    Returns:
        [B, T, D]; pairs at an angle below 1e-6 fall back to linear interpolation.
    """
    linear = flat_a * (1.0 - t) + flat_b * t
    norm_a = ops.sqrt(ops.sum(ops.square(flat_a), axis=-1, keepdims=True))
    norm_b = ops.sqrt(ops.sum(ops.square(flat_b), axis=-1, keepdims=True))
    cosine = ops.sum(flat_a * flat_b, axis=-1, keepdims=True) / ops.maximum(
        norm_a * norm_b, 1e-12)
    omega = ops.arccos(ops.clip(cosine, -1.0, 1.0))
    sin_omega = ops.sin(omega)
    curved = sin_omega > _MIN_SIN_ANGLE
    safe = ops.where(curved, sin_omega, 1.0)
    slerp = (ops.sin((1.0 - t) * omega) * flat_a + ops.sin(t * omega) * flat_b) / safe
    return ops.where(ops.logical_and(curved, spherical), slerp, linear)
