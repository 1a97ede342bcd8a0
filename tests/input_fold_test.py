"""Tests of acai_tf.speed.input_fold: the folded input layer computes what the two layers do."""

import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from acai_tf.models import networks
from acai_tf.speed import fast_conv, input_fold


def _encoder_with_nonzero_biases(colors, path="stock", dtype="float32"):
    """A depth-8 encoder whose biases are random: zero biases would hide a border error."""
    with fast_conv.creating(path):
        encoder = networks.make_encoder(16, colors, 8, 4, 2, dtype=dtype, seed=3)
    rng = np.random.default_rng(1)
    for variable in encoder.trainable_variables:
        if "bias" in variable.path:
            variable.assign(rng.normal(size=variable.shape).astype("float32"))
    return encoder


def _values_and_gradients(encoder, images, call):
    upstream = tf.constant(np.random.default_rng(2).normal(size=(5, 4, 4, 4)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        outputs = call(encoder, images)
    grads = tape.gradient(outputs, encoder.trainable_variables + [images],
                          output_gradients=upstream)
    return outputs, grads


@pytest.mark.parametrize("colors,path", [(1, "stock"), (3, "stock"), (1, "forward")])
def test_folded_call_equals_the_layer_by_layer_call(colors, path):
    encoder = _encoder_with_nonzero_biases(colors, path)
    assert isinstance(encoder, input_fold.FoldedInputStack)
    assert [layer.name for layer in encoder.layers[:2]] == ["in", "s0_a"]
    assert input_fold.foldable(*encoder.layers[:2])
    images = tf.constant(np.random.default_rng(0).uniform(-1, 1, (5, 16, 16, colors)), tf.float32)

    folded, folded_grads = _values_and_gradients(encoder, images, lambda m, x: m(x))
    plain, plain_grads = _values_and_gradients(
        encoder, images, lambda m, x: keras.Sequential.call(m, x))

    np.testing.assert_allclose(folded, plain, rtol=1e-5, atol=1e-5)
    names = [variable.path for variable in encoder.trainable_variables] + ["images"]
    assert len(folded_grads) == len(plain_grads) == len(names)
    for name, got, want in zip(names, folded_grads, plain_grads):
        # Every variable gets a gradient, "in" included, and the images' gradient (what the
        # autoencoder receives through the critic) too.
        assert got is not None, name
        scale = float(np.abs(want).max())
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * scale, err_msg=name)


def test_folded_kernel_carries_the_bias_on_the_constant_channel():
    encoder = _encoder_with_nonzero_biases(2)
    pointwise, conv = encoder.layers[:2]
    kernel = input_fold.folded_kernel(pointwise, conv).numpy()
    assert kernel.shape == (3, 3, 3, 8)
    w_in, b_in, k = pointwise.kernel.numpy()[0, 0], pointwise.bias.numpy(), conv.kernel.numpy()
    np.testing.assert_allclose(kernel[:, :, 1, :], np.tensordot(w_in[1], k, axes=([0], [2])),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kernel[:, :, 2, :], np.tensordot(b_in, k, axes=([0], [2])),
                               rtol=1e-5, atol=1e-6)


def test_mixed_bfloat16_folds_within_bfloat16_precision():
    encoder = _encoder_with_nonzero_biases(1, dtype="mixed_bfloat16")
    images = tf.constant(np.random.default_rng(0).uniform(-1, 1, (5, 16, 16, 1)), tf.float32)
    folded = encoder(images)
    plain = keras.Sequential.call(encoder, images)
    assert folded.dtype == plain.dtype == tf.float32
    np.testing.assert_allclose(folded, plain, rtol=0.05, atol=0.05 * float(np.abs(plain).max()))


@pytest.mark.parametrize("pointwise_kwargs,conv_kwargs", [
    ({"activation": "leaky_relu"}, {}),  # Not linear: no fold.
    ({"use_bias": False}, {}),  # The fold needs the bias variable it folds.
    ({}, {"strides": 2}),
    ({}, {"dilation_rate": 2}),
])
def test_layers_that_do_not_compose_linearly_are_not_folded(pointwise_kwargs, conv_kwargs):
    stack = input_fold.FoldedInputStack([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 1, **pointwise_kwargs),
        keras.layers.Conv2D(4, 3, padding="same", **conv_kwargs)])
    assert not input_fold.foldable(*stack.layers)
    images = tf.constant(np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 1)), tf.float32)
    np.testing.assert_array_equal(stack(images), keras.Sequential.call(stack, images))


def test_a_serialised_encoder_comes_back_folded_with_the_same_weights():
    encoder = _encoder_with_nonzero_biases(1)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(encoder))
    clone.set_weights(encoder.get_weights())
    assert isinstance(clone, input_fold.FoldedInputStack)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in encoder.layers]
    images = tf.constant(np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 1)), tf.float32)
    np.testing.assert_allclose(clone(images), encoder(images), rtol=1e-6, atol=1e-6)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
