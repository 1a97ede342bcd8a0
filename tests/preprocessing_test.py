"""Tests for the reference preprocessing of stored images, on synthetic images."""

import sys

import numpy as np
import pytest
import tensorflow as tf

from acai_tf.datasets import preprocessing


def test_pad_to_32_centres_on_minus_one():
    image = tf.fill([28, 28, 1], tf.constant(255, tf.uint8))
    padded = preprocessing.pad_to_32(image).numpy()
    assert padded.shape == (32, 32, 1) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[2:30, 2:30], 1.0)
    assert padded.sum() == 28 * 28 - (32 * 32 - 28 * 28)


def test_celeba_crop_resize_keeps_the_central_crop_and_range():
    # A bright centre (the 146x146 crop) on a dark frame: after cropping only the centre is left.
    frame = np.zeros([218, 178, 3], np.uint8)
    frame[36:-36, 16:-16] = 255
    out = preprocessing.celeba_crop_resize(tf.constant(frame)).numpy()
    assert out.shape == (32, 32, 3)
    np.testing.assert_allclose(out, 1.0, atol=1e-6)
    noise = np.random.default_rng(0).integers(0, 256, [218, 178, 3]).astype(np.uint8)
    out = preprocessing.celeba_crop_resize(tf.constant(noise)).numpy()
    assert out.min() >= -1.0 and out.max() <= 1.0


def test_fit_to_32_resizes_large_images_by_area():
    image = tf.constant(np.tile(np.array([[0, 255]], np.uint8), [64, 32])[..., None])
    out = preprocessing.fit_to_32(image).numpy()
    assert out.shape == (32, 32, 1)
    # Each output pixel averages one black and one white column.
    np.testing.assert_allclose(out, 0.0, atol=1e-6)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
