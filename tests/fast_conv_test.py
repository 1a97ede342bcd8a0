"""Tests of acai_tf.speed.fast_conv: both gradient paths agree, and "auto" picks by oneDNN's
state."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from acai_tf.speed import fast_conv

import python_process

# Not resolved: under Bazel this is the runfiles tree, which holds acai_tf/.
REPO_ROOT = Path(__file__).absolute().parents[1]


@pytest.mark.parametrize("channels,size", [(1, 8), (16, 32), (128, 4)])
def test_forward_gradients_equal_stock_gradients(channels, size):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, size, size, channels)), tf.float32)
    kernel = tf.Variable(rng.normal(size=(3, 3, channels, 7)), dtype=tf.float32)
    upstream = tf.constant(rng.normal(size=(3, size, size, 7)), tf.float32)

    def grads(path):
        with fast_conv.creating(path):
            layer = fast_conv.SameConv2D(7, 3, padding="same")
        assert layer.gradient_path == path
        layer.build(x.shape)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer.convolution_op(x, kernel)
        return y, tape.gradient(y, [x, kernel], output_gradients=upstream)

    y_fast, (dx_fast, dk_fast) = grads("forward")
    y_ref, (dx_ref, dk_ref) = grads("stock")
    np.testing.assert_allclose(y_fast, y_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx_fast, dx_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dk_fast, dk_ref, rtol=1e-4, atol=1e-3)


def _graph_op_types(path: str) -> set[str]:
    with fast_conv.creating(path):
        layer = fast_conv.SameConv2D(4, 3, padding="same")
    layer.build((None, 8, 8, 2))
    function = tf.function(lambda x: layer(x)).get_concrete_function(
        tf.TensorSpec((1, 8, 8, 2), tf.float32))
    return {op.type for op in function.graph.get_operations()}


def test_only_the_forward_path_adds_a_custom_gradient():
    # tf.custom_gradient shows up as an IdentityN carrying the gradient override.
    assert "IdentityN" in _graph_op_types("forward")
    assert "IdentityN" not in _graph_op_types("stock")


def test_layers_outside_any_scope_take_the_stock_path():
    with fast_conv.creating("forward"):
        pass
    assert fast_conv.SameConv2D(4, 3, padding="same").gradient_path == "stock"


def test_bad_paths_are_refused():
    with pytest.raises(ValueError, match="stock, forward"):
        fast_conv.resolve("fastest")
    with pytest.raises(ValueError, match="resolved path"):
        with fast_conv.creating("auto"):
            pass


@pytest.mark.parametrize("onednn, expected", [("0", "forward"), ("1", "stock")])
def test_auto_follows_onednn(onednn, expected):
    env = python_process.env(REPO_ROOT, TF_ENABLE_ONEDNN_OPTS=onednn, CUDA_VISIBLE_DEVICES="")
    code = ("from acai_tf.quiet_start import quiet_tensorflow; quiet_tensorflow(); "
            "from acai_tf.speed import fast_conv; "
            "print(fast_conv.onednn_enabled(), fast_conv.resolve('auto'), "
            "fast_conv.resolve('forward'), fast_conv.resolve('stock'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(onednn == "1"), expected, "forward", "stock"]


@pytest.mark.parametrize("path", ["stock", "forward"])
def test_a_single_output_channel_is_a_summed_depthwise_convolution(path):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, 8, 8, 16)), tf.float32)
    kernel = tf.Variable(rng.normal(size=(3, 3, 16, 1)), dtype=tf.float32)
    upstream = tf.constant(rng.normal(size=(3, 8, 8, 1)), tf.float32)
    with fast_conv.creating(path):
        layer = fast_conv.SameConv2D(1, 3, padding="same")
    layer.build(x.shape)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = layer.convolution_op(x, kernel)
        y_ref = tf.nn.conv2d(x, kernel, 1, "SAME")
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    for got, want in zip(tape.gradient(y, [x, kernel], output_gradients=upstream),
                         tape.gradient(y_ref, [x, kernel], output_gradients=upstream)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("filters, depthwise", [(1, True), (3, False)])
def test_only_single_output_layers_take_the_depthwise_route(filters, depthwise):
    layer = fast_conv.SameConv2D(filters, 3, padding="same")
    layer.build((None, 8, 8, 16))
    function = tf.function(lambda x: layer(x)).get_concrete_function(
        tf.TensorSpec((1, 8, 8, 16), tf.float32))
    types = {op.type for op in function.graph.get_operations()}
    assert ("DepthwiseConv2dNative" in types) == depthwise
    assert ("Conv2D" in types) != depthwise


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
