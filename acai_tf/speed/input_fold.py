"""The encoder's linear 1x1 input layer, folded into the convolution after it.

The encoder (and the critic, which reuses its stack) opens with `in`, a linear 1x1 convolution
from the image's `colors` channels to `depth`, and then a 'same' convolution `first` (3x3 in the
paper's networks). Two linear maps compose into one, so the pair computes

    first(in(x)) = act(conv([x, 1], K) + b_first)
    K[i, j, c, o]      = sum_m W_in[c, m] K_first[i, j, m, o]    (c < colors)
    K[i, j, colors, o] = sum_m b_in[m]    K_first[i, j, m, o]    (in's bias, on a constant channel)

with one convolution from colors + 1 channels instead of two. The constant channel is 1 inside
the image and 0 in the 'same' zero padding, where `in(x)` is 0 as well, so the fold is exact at
the borders too: the values and gradients of the two layers' four variables are those of the
layer-by-layer computation up to float32 summation order (`tests/input_fold_test.py`).

Why: TensorFlow's oneDNN kernels pad channel counts to blocks of 16, so the 1-channel 1x1
convolution costs about what a 16-channel one does, and `first`'s 16-channel input costs a full
16x16 convolution where the folded one reads 2 channels. On the lines32 ACAI step (2-core AMD
EPYC) the fold removes about a tenth of the work: see `benchmarks/README.md`.

The variables, their names, the checkpoint layout and the exported signatures are unchanged:
`FoldedInputStack` only changes how a `keras.Sequential` of these layers is called.
"""

from __future__ import annotations

import keras
from keras import layers, ops


def foldable(pointwise: layers.Layer, conv: layers.Layer) -> bool:
    """Whether `pointwise` is a linear, biased 1x1 stride-1 channels-last convolution whose output
    feeds the channels-last 'same' or 'valid' convolution `conv` (any kernel, stride 1)."""
    def plain_conv(layer):
        return (isinstance(layer, layers.Conv2D) and layer.data_format == "channels_last"
                and layer.groups == 1 and tuple(layer.strides) == (1, 1)
                and tuple(layer.dilation_rate) == (1, 1) and layer.padding in ("same", "valid"))

    return (plain_conv(pointwise) and plain_conv(conv) and tuple(pointwise.kernel_size) == (1, 1)
            and pointwise.use_bias and pointwise.activation in (None, keras.activations.linear))


def folded_kernel(pointwise: layers.Conv2D, conv: layers.Conv2D):
    """K above: [kh, kw, colors + 1, filters] float32, from the two layers' current variables."""
    weights = ops.concatenate([ops.reshape(pointwise.kernel, pointwise.kernel.shape[2:]),
                               ops.expand_dims(pointwise.bias, 0)], axis=0)  # [colors + 1, depth]
    return ops.einsum("cm,ijmo->ijco", weights, conv.kernel)


def folded_call(pointwise: layers.Conv2D, conv: layers.Conv2D, images):
    """`conv(pointwise(images))` as one convolution (see the module docstring).

    Args:
        pointwise, conv: built layers for which `foldable` holds.
        images: [B, H, W, colors], any float dtype (cast to `conv`'s compute dtype).

    Returns:
        [B, H', W', conv.filters] in `conv`'s compute dtype, after its activation.
    """
    dtype = conv.compute_dtype
    inputs = ops.cast(images, dtype)
    inputs = ops.concatenate([inputs, ops.ones_like(inputs[..., :1])], axis=-1)
    # The variables compose in float32 and round once, under mixed precision too; the
    # convolution_op keeps `conv`'s gradient path (acai_tf.speed.fast_conv).
    outputs = conv.convolution_op(inputs, ops.cast(folded_kernel(pointwise, conv), dtype))
    if conv.use_bias:
        outputs = ops.add(outputs, ops.reshape(ops.cast(conv.bias, dtype), (1, 1, 1, -1)))
    return conv.activation(outputs) if conv.activation is not None else outputs


@keras.saving.register_keras_serializable(package="acai_tf")
class FoldedInputStack(keras.Sequential):
    """A `keras.Sequential` that, when its first two layers are `foldable`, calls them as one
    convolution (`folded_call`) and the rest in order; otherwise a plain Sequential."""

    def call(self, inputs, training=None, mask=None, **kwargs):
        stack = self.layers
        if len(stack) < 2 or not foldable(stack[0], stack[1]):
            return super().call(inputs, training=training, mask=mask, **kwargs)
        outputs = folded_call(stack[0], stack[1], inputs)
        for layer in stack[2:]:
            # The stacks here have no masking layers; only `training` needs passing on.
            if layer._call_has_training_arg and training is not None:  # pylint: disable=protected-access
                outputs = layer(outputs, training=training)
            else:
                outputs = layer(outputs)
        return outputs
