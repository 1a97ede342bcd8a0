"""FLOPs of one training step per training image, counted from the models' layers.

Counted: each multiply-add of a convolution, a dense layer or the VQ-VAE's code distances, as 2
FLOPs, from the layers' kernel and output shapes (a convolution: 2 H_out W_out kh kw C_in C_out
per image). Each network call of a model's `train_step` adds, per image it sees, its forward
FLOPs; the same again for the weight gradient if the call trains the network; and the same again
for the input gradient where the input needs one (the decoder's, towards the encoder), or all
but the first layer's where only the weights do (no gradient reaches the data). Ignored: biases,
activations, pooling, upsampling, losses, latent mixing and sampling (element-wise ops and
reductions: a few FLOPs per value, against 288 per output value of a 3x3 convolution from 16
channels), and what does not grow with the batch (optimizer updates, the codebook's norms,
composing the folded input kernel).

Layers as the step runs them (the default): the encoder's and critic's 1x1 input layer is folded
into the 3x3 convolution after it (`acai_tf.speed.input_fold`), which then reads colors + 1
channels; `folded=False` counts the paper's layers (a 1x1 convolution to `depth` channels, then a
3x3 one from `depth`). At depth 16 and 32x32 the fold saves 4.2 MFLOP a pass: ACAI at the lines32
configuration does 0.42 GFLOP per image as run, 0.47 by the paper's layers. The decoder's
one-channel output layer, a depthwise convolution summed over channels (`acai_tf.speed.fast_conv`),
has a convolution's multiply-adds and is counted as one.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, NamedTuple

import keras

from acai_tf.speed import input_fold


class Network(NamedTuple):
    """A network's FLOPs on one image: `forward` in all, `first` in its first layer."""
    forward: int
    first: int


def layer_flops(layer: keras.layers.Layer, input_shape: tuple) -> int:
    """FLOPs of one image through a built Conv2D (groups 1) or Dense layer on inputs of shape
    `input_shape` ([None, ...]); 0 for layers without weights (pooling, upsampling, means)."""
    if isinstance(layer, keras.layers.Conv2D):
        height, width = layer.compute_output_shape(input_shape)[1:3]
        return 2 * height * width * math.prod(layer.kernel.shape)
    if isinstance(layer, keras.layers.Dense):
        return 2 * math.prod(input_shape[1:-1]) * math.prod(layer.kernel.shape)
    if layer.weights:
        raise ValueError(f"cannot count the FLOPs of layer {layer.name!r} "
                         f"({type(layer).__name__})")
    return 0


def _stack_counts(stack: list, shape: tuple, folded: bool) -> list[int]:
    """FLOPs of each layer of `stack` (nested Sequentials flattened) on inputs of `shape`."""
    counts = []
    for layer in stack:
        if isinstance(layer, keras.Sequential):
            inner = _stack_counts(layer.layers, shape, folded)
            pair = layer.layers[:2]
            if (folded and isinstance(layer, input_fold.FoldedInputStack) and len(pair) == 2
                    and input_fold.foldable(*pair)):
                # One convolution with the second layer's kernel, from colors + 1 channels.
                conv_input = pair[0].compute_output_shape(shape)
                height, width = pair[1].compute_output_shape(conv_input)[1:3]
                kh, kw, _, filters = pair[1].kernel.shape
                inner[:2] = [2 * height * width * kh * kw * (shape[-1] + 1) * filters]
            counts += inner
        else:
            counts.append(layer_flops(layer, shape))
        shape = tuple(layer.compute_output_shape(shape))
    return counts


def network(model: keras.layers.Layer, folded: bool = True) -> Network:
    """The FLOPs per image of a built keras.Sequential or Dense layer; `folded`: count an
    `input_fold.FoldedInputStack`'s first two layers as the one convolution the step runs."""
    if isinstance(model, keras.Sequential):
        counts = _stack_counts([model], tuple(model.input_shape), folded)
    else:
        counts = [layer_flops(model, (None, model.kernel.shape[0]))]
    counts = [count for count in counts if count]
    return Network(forward=sum(counts), first=counts[0])


def call_flops(net: Network, images: int, forward: bool = True, weights: bool = False,
               input_gradient: bool = False) -> int:
    """FLOPs per training image of a network call on `images` images per training image: its
    forward pass (unless the backward pass runs through an earlier call's), the weight gradient
    if `weights`, and the input-gradient pass that needs: all layers if `input_gradient`, all but
    the first if only `weights`."""
    backward = (net.forward if weights else 0) + (
        net.forward if input_gradient else net.forward - net.first if weights else 0)
    return images * ((net.forward if forward else 0) + backward)


# (model, count: layer or Sequential -> Network) -> FLOPs per training image of its step.
Count = Callable[[keras.layers.Layer], Network]


def _trained(count: Count, *layers) -> int:
    """Layers or networks between trained ones: forward, weight and input gradients."""
    return sum(call_flops(count(layer), 1, weights=True, input_gradient=True) for layer in layers)


def _autoencoder(model, count: Count) -> int:
    # The encoder and decoder trained on each image; the latent classifier probes stopped codes.
    return (call_flops(count(model.encoder), 1, weights=True) + _trained(count, model.decoder)
            + call_flops(count(model.classifier), 1, weights=True))


def _denoising(model, count):
    # The latent classifier reads the clean images' codes: one more forward encoder pass.
    return _autoencoder(model, count) + call_flops(count(model.encoder), 1)


def _vae(model, count):
    return _autoencoder(model, count) + _trained(count, model.mean_head, model.log_variance_head)


def _vqvae(model, count):
    codes, dim = model.quantizer.codebook.shape
    # Distances of the num_latents vectors to every code: forward only (argmin has no gradient).
    distances = 2 * model.hp.num_latents * dim * codes
    return (_autoencoder(model, count) + distances
            + _trained(count, model.project, model.expand, model.restore))


def _aae(model, count):
    # The discriminator's update on the codes and as many prior draws (two rows per image); the
    # autoencoder then backpropagates through it: a new call on the codes ("alternating"), or
    # the update call's two rows ("simultaneous": the gradient covers the whole matrix).
    disc, alternating = count(model.discriminator), model.hp.update_order == "alternating"
    fool = call_flops(disc, 1 if alternating else 2, forward=alternating, input_gradient=True)
    return _autoencoder(model, count) + call_flops(disc, 2, weights=True) + fool


def _acai(model, count):
    # The decoder also decodes the latent mixes; the critic updates on those and on the blends
    # of images and reconstructions; the autoencoder then backpropagates through the critic on
    # the mixes: a new call ("alternating") or the update's call ("simultaneous").
    critic, alternating = count(model.critic), model.hp.update_order == "alternating"
    fool = call_flops(critic, 1, forward=alternating, input_gradient=True)
    return (_autoencoder(model, count) + _trained(count, model.decoder)
            + call_flops(critic, 2, weights=True) + fool)


_STEPS: dict[str, Callable[[keras.Model, Count], int]] = {
    "baseline": _autoencoder, "dropout": _autoencoder, "denoising": _denoising, "vae": _vae,
    "aae": _aae, "vqvae": _vqvae, "acai": _acai}


def train_step_flops(model, folded: bool = True) -> int:
    """FLOPs per training image of one `train_step` of a built `acai_tf.models` autoencoder
    (about 4.2e8 for ACAI at lines32); `folded`: layers as the step runs them (True) or as the
    paper defines them (False)."""
    try:
        step = _STEPS[model.registered_name]
    except KeyError:
        raise ValueError(f"no FLOP count for model {model.registered_name!r}") from None
    return step(model, functools.partial(network, folded=folded))
