"""acai_tf.models.latent_mixing: ACAI's training mix and the interpolation paths, against hand
values."""

import sys

import numpy as np
import pytest
import tensorflow as tf

from acai_tf.models import latent_mixing


def _np(x):
    return np.asarray(x)


def test_fold_alpha_maps_to_half_interval():
    u = np.array([0.0, 0.25, 0.5, 0.75, 1.0], np.float32)
    np.testing.assert_allclose(_np(latent_mixing.fold_alpha(u)), [0.0, 0.25, 0.5, 0.25, 0.0])


def test_mix_latents_pairs_with_reversed_batch():
    z = np.arange(3, dtype=np.float32).reshape(3, 1, 1, 1)  # 0, 1, 2
    alpha = np.array([0.0, 0.5, 0.25], np.float32).reshape(3, 1, 1, 1)
    mixed = _np(latent_mixing.mix_with_reversed_batch(z, alpha)).ravel()
    # i=0 mixes with 2 (alpha 0 -> all partner), i=1 with itself, i=2 with 0.
    np.testing.assert_allclose(mixed, [2.0, 1.0, 0.25 * 2 + 0.75 * 0])


def test_spherical_interpolation_keeps_endpoints():
    z_a = tf.constant(np.random.default_rng(0).normal(size=(2, 4, 4, 2)), tf.float32)
    z_b = tf.constant(np.random.default_rng(1).normal(size=(2, 4, 4, 2)), tf.float32)
    for spherical in (False, True):
        path = latent_mixing.interpolate_latents(z_a, z_b, 7, spherical).numpy()
        assert path.shape == (2, 7, 4, 4, 2)
        np.testing.assert_allclose(path[:, 0], z_a, atol=1e-5)
        np.testing.assert_allclose(path[:, -1], z_b, atol=1e-5)
    same = latent_mixing.interpolate_latents(z_a, z_a, 3, True).numpy()
    assert np.isfinite(same).all()


def test_paths_by_hand_and_with_tensor_arguments():
    # Orthogonal unit vectors: the straight line's midpoint has norm 1/sqrt(2), slerp's 1.
    z_a = tf.constant([[1.0, 0.0]])
    z_b = tf.constant([[0.0, 1.0]])
    linear = latent_mixing.interpolate_latents(z_a, z_b, 3, False).numpy()
    np.testing.assert_allclose(linear[0, 1], [0.5, 0.5], atol=1e-6)
    half = np.sqrt(0.5)
    spherical = latent_mixing.interpolate_latents(z_a, z_b, 3, True).numpy()
    np.testing.assert_allclose(spherical[0, 1], [half, half], atol=1e-6)
    # As a serving signature calls it: steps and the method as scalar tensors, in a graph.
    traced = tf.function(latent_mixing.interpolate_latents)
    for flag, expected in ((False, linear), (True, spherical)):
        got = traced(z_a, z_b, tf.constant(3), tf.constant(flag)).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_fewer_than_two_steps_is_an_error():
    with pytest.raises(ValueError, match="at least 2"):
        latent_mixing.interpolate_latents(tf.zeros((1, 2)), tf.zeros((1, 2)), 1)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
