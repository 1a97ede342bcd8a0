"""The loss functions against hand-computed values."""

import sys

import numpy as np
import pytest

from acai_tf.models import losses


def _np(x):
    return np.asarray(x)


def test_per_example_mse():
    targets = np.zeros((2, 2, 2, 1), np.float32)
    predictions = np.stack([np.full((2, 2, 1), 1.0), np.full((2, 2, 1), 2.0)]).astype(np.float32)
    np.testing.assert_allclose(_np(losses.per_example_mse(targets, predictions)), [1.0, 4.0])


def test_acai_losses():
    total, regression, regulariser = losses.acai_critic_loss(
        np.array([0.3, 0.1], np.float32), np.array([0.1, 0.1], np.float32),
        np.array([0.5, -1.0], np.float32))
    np.testing.assert_allclose(_np(regression), [0.04, 0.0], atol=1e-7)
    np.testing.assert_allclose(_np(regulariser), [0.25, 1.0])
    np.testing.assert_allclose(_np(total), [0.29, 1.0], atol=1e-7)
    np.testing.assert_allclose(_np(losses.acai_adversarial_loss(np.array([0.5], np.float32))),
                               [0.25])
    blend = losses.real_blend(np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32), 0.2)
    np.testing.assert_allclose(_np(blend), [[0.2]])  # reg * x + (1 - reg) * x_hat


def test_sigmoid_cross_entropy_matches_definition_and_is_stable():
    logits = np.array([-3.0, 0.0, 2.0], np.float32)
    labels = np.array([0.2, 0.5, 1.0], np.float32)
    sig = 1 / (1 + np.exp(-logits.astype(np.float64)))
    expected = -(labels * np.log(sig) + (1 - labels) * np.log(1 - sig))
    np.testing.assert_allclose(_np(losses.sigmoid_cross_entropy(labels, logits)), expected,
                               rtol=1e-5)
    big = _np(losses.sigmoid_cross_entropy(np.float32(0.0), np.array([100.0], np.float32)))
    assert np.isfinite(big).all() and big[0] == pytest.approx(100.0)


def test_bernoulli_log_likelihood_uses_continuous_targets():
    images = np.array([[[[1.0], [-1.0]]], [[[0.0], [0.0]]]], np.float32)  # [2, 1, 2, 1]
    logits = np.zeros_like(images)
    # sigmoid(0) = 0.5: log p = log(0.5) per pixel whatever the target.
    np.testing.assert_allclose(_np(losses.bernoulli_log_likelihood(images, logits)),
                               [2 * np.log(0.5)] * 2, rtol=1e-6)


def test_gaussian_kl():
    mean = np.array([[0.0, 0.0], [1.0, 0.0]], np.float32)
    log_var = np.array([[0.0, 0.0], [0.0, np.log(2.0)]], np.float32)
    expected = [0.0, 0.5 * (1.0 + (2.0 - 1.0 - np.log(2.0)))]
    np.testing.assert_allclose(_np(losses.gaussian_kl(mean, log_var)), expected, rtol=1e-6)


def test_aae_losses():
    zero = np.zeros(1, np.float32)
    np.testing.assert_allclose(_np(losses.aae_discriminator_loss(zero, zero)), [2 * np.log(2)],
                               rtol=1e-6)
    np.testing.assert_allclose(_np(losses.aae_generator_loss(np.array([0.0], np.float32))),
                               [np.log(2)], rtol=1e-6)


def test_softmax_cross_entropy_and_vq_commitment():
    logits = np.log(np.array([[0.5, 0.25, 0.25]], np.float32))
    np.testing.assert_allclose(_np(losses.softmax_cross_entropy(np.array([1]), logits)),
                               [np.log(4.0)], rtol=1e-6)
    inputs = np.array([[[1.0, 2.0]]], np.float32)
    codes = np.array([[[0.0, 0.0]]], np.float32)
    np.testing.assert_allclose(_np(losses.vq_commitment_loss(inputs, codes)), [2.5])


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
