"""The paper's 3x3 convolutions, with the gradient computation that is fastest on this machine.

Two ways to differentiate a stride-1 'same' 3x3 convolution give the same values (up to float32
summation order, tested):
- "stock": TensorFlow's Conv2DBackpropInput / Conv2DBackpropFilter kernels.
- "forward": both gradients as forward convolutions, through a custom gradient:
  d input  = conv(d output, kernel flipped in space with in/out channels swapped);
  d kernel = conv(input with batch as channels, d output with batch as input channels).

Which is faster depends on TensorFlow's CPU kernels (2-core AMD EPYC, ACAI lines32 step):
- oneDNN off (the default on CPUs without AVX-512 VNNI/BF16): the Eigen backprop kernels are
  1.1x-5x slower than a forward convolution of the same size, and "forward" is the faster path;
- oneDNN on (the default on AVX-512 VNNI/BF16 CPUs, or TF_ENABLE_ONEDNN_OPTS=1): its backprop
  kernels are fast, and the batch-as-channels convolutions and transposes of "forward" cost
  25-30 % of the step, so "stock" is faster;
- GPUs and TPUs have fast backprop kernels: "stock".
`resolve("auto")` makes that choice. The path is fixed when a layer is created: `creating(path)`
scopes it, and layers created outside any scope (models rebuilt for evaluation or export) use
"stock", so that no custom gradient reaches a SavedModel.

On every path and backend, such a convolution with a single output channel (the decoder's image
layer on grey-scale data) is computed as a depthwise convolution summed over its input channels
(`single_output_conv`): the same values, and oneDNN, which pads channel counts to blocks of 16,
otherwise spends on its one channel what sixteen would cost (16 -> 1 channels at 32x32, batch 64,
forward and both gradients: 2.5 -> 1.2 ms with oneDNN, 7.8 -> 3.8 ms without; with 3 output
channels the plain convolution is faster, so only 1 takes this route). It uses no custom
gradient, so it is also what an export computes.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import keras
from keras import ops

GRADIENT_PATHS = ("auto", "stock", "forward")

_creation_path = "stock"


def onednn_enabled() -> bool:
    """Whether TensorFlow runs its CPU kernels through oneDNN in this process."""
    try:
        from tensorflow.python.util import _pywrap_util_port  # pylint: disable=import-outside-toplevel
    except ImportError:  # A TensorFlow without the probe: assume its default on x86, oneDNN on.
        return True
    return bool(_pywrap_util_port.IsMklEnabled())


def resolve(requested: str) -> str:
    """The gradient path to use: `requested`, or for "auto" the fastest here ("stock"/"forward")."""
    if requested not in GRADIENT_PATHS:
        raise ValueError(f"conv gradient must be one of {', '.join(GRADIENT_PATHS)}, "
                         f"got {requested!r}")
    if requested != "auto":
        return requested
    if keras.backend.backend() != "tensorflow":
        return "stock"
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    if tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"):
        return "stock"
    return "stock" if onednn_enabled() else "forward"


@contextlib.contextmanager
def creating(path: str) -> Iterator[None]:
    """Layers created inside take gradient path `path` ("stock" or "forward", not "auto")."""
    global _creation_path
    if path not in GRADIENT_PATHS[1:]:
        raise ValueError(f"creating() takes a resolved path (stock or forward), got {path!r}")
    previous, _creation_path = _creation_path, path
    try:
        yield
    finally:
        _creation_path = previous


def _forward_gradient_conv3x3():
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    @tf.custom_gradient
    def conv(inputs, kernel):
        outputs = tf.nn.conv2d(inputs, kernel, 1, "SAME")

        def grad(d_outputs):
            flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])
            d_inputs = tf.nn.conv2d(d_outputs, flipped, 1, "SAME")
            # [C_in, H, W, B] * [H, W, B, C_out] -> [C_in, 3, 3, C_out]
            d_kernel = tf.nn.conv2d(tf.transpose(inputs, [3, 1, 2, 0]),
                                    tf.transpose(d_outputs, [1, 2, 0, 3]), 1,
                                    [[0, 0], [1, 1], [1, 1], [0, 0]])
            return d_inputs, tf.transpose(d_kernel, [1, 2, 0, 3])

        return outputs, grad

    def conv_on_tensors(inputs, kernel):
        # A variable read inside a custom gradient would need a `variables` argument; reading
        # it outside keeps the gradient flowing to the variable through the read.
        return conv(inputs, tf.convert_to_tensor(kernel))

    return conv_on_tensors


_FORWARD_GRADIENT_CONV = None


def single_output_conv(inputs, kernel):
    """A stride-1 'same' convolution to one channel, as a depthwise one summed over channels.

    Args:
        inputs: [B, H, W, C].
        kernel: [kh, kw, C, 1], which is also the depthwise kernel of channel multiplier 1.

    Returns:
        [B, H, W, 1]: sum_c depthwise(inputs, kernel)[..., c], the convolution's value.
    """
    return ops.sum(ops.depthwise_conv(inputs, kernel, strides=1, padding="same"), axis=-1,
                   keepdims=True)


@keras.saving.register_keras_serializable(package="acai_tf")
class SameConv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` whose 3x3 stride-1 'same' kernels take the chosen gradient path.

    `gradient_path` is the path of the `creating` scope the layer was made in ("stock" outside
    any); it is not part of the layer's config, so a deserialised layer is plain Conv2D.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gradient_path = _creation_path

    def convolution_op(self, inputs, kernel):
        global _FORWARD_GRADIENT_CONV
        if (tuple(self.kernel_size) != (3, 3) or tuple(self.strides) != (1, 1)
                or tuple(self.dilation_rate) != (1, 1) or self.padding != "same"
                or self.groups != 1 or self.data_format != "channels_last"):
            return super().convolution_op(inputs, kernel)
        if self.filters == 1:
            return single_output_conv(inputs, kernel)
        if self.gradient_path != "forward" or keras.backend.backend() != "tensorflow":
            return super().convolution_op(inputs, kernel)
        if _FORWARD_GRADIENT_CONV is None:
            _FORWARD_GRADIENT_CONV = _forward_gradient_conv3x3()
        return _FORWARD_GRADIENT_CONV(inputs, kernel)
