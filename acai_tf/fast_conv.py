"""A 3x3 'same' convolution whose backward pass runs as forward convolutions on TensorFlow.

On CPU, TensorFlow's Conv2DBackpropInput and Conv2DBackpropFilter kernels are 1.1x to 5x
slower than a forward convolution of the same size for the paper's narrow layers (measured with
oneDNN on 2 cores: 16 channels at 32x32, backprop-input 10.8 ms vs 3.2 ms as a forward conv).
Both gradients of a stride-1 'same' convolution are themselves forward convolutions:
- d input  = conv(d output, kernel flipped in space with in/out channels swapped);
- d kernel = conv(input with batch as channels, d output with batch as input channels).
The values are those of the stock gradient up to float32 summation order (tested).

On other backends `SameConv2D` is a plain `keras.layers.Conv2D`.
"""

from __future__ import annotations

import keras


def _same_conv3x3_tf():
    import tensorflow as tf

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


_TF_CONV = None


@keras.saving.register_keras_serializable(package="acai_tf")
class SameConv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` with the faster gradient for 3x3, stride 1, 'same' kernels."""

    def convolution_op(self, inputs, kernel):
        global _TF_CONV
        if (keras.backend.backend() != "tensorflow" or tuple(self.kernel_size) != (3, 3)
                or tuple(self.strides) != (1, 1) or tuple(self.dilation_rate) != (1, 1)
                or self.padding != "same" or self.groups != 1
                or self.data_format != "channels_last"):
            return super().convolution_op(inputs, kernel)
        if _TF_CONV is None:
            _TF_CONV = _same_conv3x3_tf()
        return _TF_CONV(inputs, kernel)
