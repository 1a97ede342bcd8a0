"""The paper's convolutional encoder, decoder and critic, with the reference numerics.

All convolutions use 'same' padding, zero biases and the reference's HeModifiedNormal(0.2)
kernels (`he_modified_normal`); hidden activations are leaky ReLU with slope 0.2; downscaling is
a 2x2 box (average) filter, upscaling nearest neighbour; the encoder's last layer and the
decoder's output are linear. Widths double at every scale: stage s has `depth << s` channels.

Initial weights are a function of a seed alone: every layer's initialiser gets its own seed,
derived from the model's seed and the layer's path (`layer_seed`), so that a model is the same
on every worker and in every rebuild without touching any global random state.
"""

from __future__ import annotations

import zlib

import keras
from keras import layers, ops

from acai_tf.speed import fast_conv, input_fold

LEAKY_SLOPE = 0.2


def he_modified_normal(slope: float = LEAKY_SLOPE,
                       seed: int | None = None) -> keras.initializers.VarianceScaling:
    """The reference's initialiser for leaky-ReLU convolutions ("HeModifiedNormal"): a plain
    (untruncated) normal with std = 1 / sqrt((1 + slope**2) * fan_in), fan_in = kh * kw * c_in.

    It is neither Keras' HeNormal (truncated, sqrt(2 / fan_in)) nor LeCun normal, but Keras'
    VarianceScaling with scale 1 / (1 + slope**2) over fan_in draws exactly it: for a given
    seed the kernels are bit for bit those of the formula (std sqrt(scale / fan_in) rounds to
    the same float32 for every fan_in below 40,000; networks_test checks whole networks).
    """
    return keras.initializers.VarianceScaling(scale=1.0 / (1.0 + slope**2), mode="fan_in",
                                              distribution="untruncated_normal", seed=seed)


@keras.saving.register_keras_serializable(package="acai_tf")
class MeanOverPixelsAndChannels(layers.Layer):
    """Reduces [B, H, W, C] to [B] by the mean over H, W and C (the critic's output)."""

    def call(self, inputs):
        return ops.mean(inputs, axis=(1, 2, 3))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)


def layer_seed(seed: int | None, path: str) -> int | None:
    """The initialiser seed of the layer at `path` (e.g. "encoder/s0_a") in a model seeded
    `seed`: a 31-bit hash of both, so layers draw differently; None (unseeded draws) if `seed`
    is None."""
    if seed is None:
        return None
    return zlib.crc32(f"{int(seed)}/{path}".encode()) & 0x7FFFFFFF


def dense(units: int, name: str, seed: int | None, activation: str | None = None) -> layers.Dense:
    """A Dense layer with Keras' default Glorot-uniform kernel, seeded by `layer_seed(seed,
    name)`: `name` must be unique in the model."""
    initializer = keras.initializers.GlorotUniform(seed=layer_seed(seed, name))
    return layers.Dense(units, activation=activation, name=name, kernel_initializer=initializer)


def _conv(filters: int, kernel: int, activation: bool, name: str, dtype: str,
          seed: int | None) -> layers.Conv2D:
    return fast_conv.SameConv2D(
        filters, kernel, padding="same", name=name, dtype=dtype,
        # Keras' leaky_relu activation defaults to slope 0.2, the reference's value (pinned in
        # networks_test); the LeakyReLU *layer* would default to 0.3.
        activation="leaky_relu" if activation else None,
        kernel_initializer=he_modified_normal(LEAKY_SLOPE, seed), bias_initializer="zeros")


def _float32_output(stack: list, dtype: str) -> list:
    """Under a mixed policy, ends the stack with a float32 cast: losses, latent mixing and every
    logged value stay float32 whatever the networks compute in (Keras' mixed-precision rule)."""
    if dtype == "float32":
        return stack  # Unchanged layer list: float32 models and checkpoints stay as they were.
    return stack + [layers.Activation("linear", dtype="float32", name="to_float32")]


def make_encoder(image_size: int, colors: int, depth: int, latent: int, scales: int,
                 name: str = "encoder", dtype: str = "float32",
                 seed: int | None = None) -> keras.Sequential:
    """Builds the conv encoder.

    Args:
        image_size: input height = width.
        colors: input channels.
        depth: channels of the first stage.
        latent: channels of the output latent map.
        scales: number of 2x box downscales.
        name: model name (the critic reuses this stack under another name).
        dtype: Keras dtype policy of the layers ("float32", "mixed_bfloat16", "mixed_float16");
            the output is float32 under every policy.
        seed: the model's seed (see `layer_seed`); None draws from Keras' global RNG.

    Returns:
        A built model mapping images [B, S, S, colors] (values in [-1, 1]) to latent maps
        [B, S / 2**scales, S / 2**scales, latent] (unbounded, linear output).
    """
    def conv(filters, kernel, activation, layer):
        return _conv(filters, kernel, activation, layer, dtype, layer_seed(seed, f"{name}/{layer}"))

    stack = [keras.Input((image_size, image_size, colors)), conv(depth, 1, False, "in")]
    for scale in range(scales):
        width = depth << scale
        stack += [conv(width, 3, True, f"s{scale}_a"), conv(width, 3, True, f"s{scale}_b"),
                  layers.AveragePooling2D(2, name=f"s{scale}_down", dtype=dtype)]
    stack += [conv(depth << scales, 3, True, "top"), conv(latent, 3, False, "latent")]
    # Called with "in" folded into the first 3x3 convolution: the same maths, less work.
    return input_fold.FoldedInputStack(_float32_output(stack, dtype), name=name)


def make_decoder(latent_width: int, latent: int, depth: int, colors: int, scales: int,
                 name: str = "decoder", dtype: str = "float32",
                 seed: int | None = None) -> keras.Sequential:
    """Builds the conv decoder (the encoder's mirror image); `dtype`, `seed` as for the encoder.

    Returns:
        A built model mapping latent maps [B, w, w, latent] to images
        [B, w * 2**scales, w * 2**scales, colors] with a linear output (no tanh: values are
        unbounded but trained towards [-1, 1]).
    """
    def conv(filters, activation, layer):
        return _conv(filters, 3, activation, layer, dtype, layer_seed(seed, f"{name}/{layer}"))

    stack = [keras.Input((latent_width, latent_width, latent))]
    for scale in reversed(range(scales)):
        width = depth << scale
        stack += [conv(width, True, f"s{scale}_a"), conv(width, True, f"s{scale}_b"),
                  layers.UpSampling2D(2, interpolation="nearest", name=f"s{scale}_up",
                                      dtype=dtype)]
    stack += [conv(depth, True, "top"), conv(colors, False, "out")]
    return keras.Sequential(_float32_output(stack, dtype), name=name)


def make_critic(image_size: int, colors: int, depth: int, latent: int, scales: int,
                name: str = "critic", dtype: str = "float32",
                seed: int | None = None) -> keras.Sequential:
    """Builds ACAI's critic: the encoder stack, mean-reduced to one scalar per image.

    `dtype`, `seed` as for the encoder; the mean is taken in float32.

    Returns:
        A built model mapping images [B, S, S, colors] to predictions [B] (unbounded; trained to
        regress the mixing coefficient alpha in [0, 0.5]).
    """
    trunk = make_encoder(image_size, colors, depth, latent, scales, name=f"{name}_trunk",
                         dtype=dtype, seed=seed)
    return keras.Sequential(
        [keras.Input((image_size, image_size, colors)), trunk,
         MeanOverPixelsAndChannels(name="mean")],
        name=name)
