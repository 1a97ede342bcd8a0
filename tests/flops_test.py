"""Tests of acai_tf.performance.flops: a tiny network counted by hand, and every model's count
against the FLOPs of the convolutions and matrix products in its traced train step."""

import sys

import keras
import pytest
import tensorflow as tf

import tiny
from acai_tf import models
from acai_tf.models import networks
from acai_tf.performance import flops
from acai_tf.speed import fast_conv
from acai_tf.config import ModelConfig


def test_a_tiny_encoder_is_counted_layer_by_layer():
    # 8x8x1 images, depth 2, one downscale, 3 latent channels: in (1x1, 1 -> 2) and s0_a, s0_b
    # (3x3, 2 -> 2) at 8x8; top (3x3, 2 -> 4) and latent (3x3, 4 -> 3) at 4x4.
    encoder = networks.make_encoder(8, 1, depth=2, latent=3, scales=1, seed=0)
    inner = 2 * 8 * 8 * 9 * 2 * 2 + 2 * 4 * 4 * 9 * 2 * 4 + 2 * 4 * 4 * 9 * 4 * 3
    assert flops.network(encoder, folded=False) == flops.Network(
        forward=2 * 8 * 8 * 1 * 2 + 2 * 8 * 8 * 9 * 2 * 2 + inner, first=2 * 8 * 8 * 1 * 2)
    # As run, "in" and s0_a are one 3x3 convolution from the image and a constant channel.
    folded_first = 2 * 8 * 8 * 9 * (1 + 1) * 2
    assert flops.network(encoder) == flops.Network(forward=folded_first + inner,
                                                   first=folded_first)


def test_a_dense_layer_and_the_calls_of_a_network():
    dense = keras.layers.Dense(5)
    dense.build((None, 7))
    assert flops.network(dense) == flops.Network(forward=70, first=70)
    net = flops.Network(forward=10, first=3)
    assert flops.call_flops(net, 2) == 20  # forward only
    assert flops.call_flops(net, 1, weights=True) == 10 + 10 + 7  # no input gradient at layer 1
    assert flops.call_flops(net, 1, input_gradient=True) == 20
    assert flops.call_flops(net, 3, weights=True, input_gradient=True) == 3 * 30
    assert flops.call_flops(net, 1, forward=False, input_gradient=True) == 10


def test_a_layer_that_cannot_be_counted_is_refused():
    layer = keras.layers.BatchNormalization()
    layer.build((None, 4))
    with pytest.raises(ValueError, match="cannot count the FLOPs of layer"):
        flops.layer_flops(layer, (None, 4))


def _ops_the_step_runs(graph) -> set[str]:
    """Names of the ops that the outputs and stateful updates depend on: TensorFlow prunes the
    others (e.g. a first layer's input gradient, which the gradient function also builds)."""
    todo = [tensor.op for tensor in graph.outputs] + list(graph.control_outputs)
    seen = set()
    while todo:
        op = todo.pop()
        if op.name not in seen:
            seen.add(op.name)
            todo += [tensor.op for tensor in op.inputs] + list(op.control_inputs)
    return seen


def _depthwise_backprop_flops(op) -> int:
    """TensorFlow registers no FLOP statistic for these: 2 per multiply-add, from the shapes
    (stride 1), as many as the forward depthwise convolution."""
    kh, kw, _, multiplier = op.inputs[1].shape if "Input" in op.type else op.outputs[0].shape
    image = op.outputs[0].shape if "Input" in op.type else op.inputs[0].shape
    return 2 * image.num_elements() * kh * kw * multiplier


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


CONTRACTIONS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "DepthwiseConv2dNative",
                "MatMul", "BatchMatMulV2")


def _graph_flops(model, batch: int) -> int:
    """FLOPs of the convolutions and matrix products in the traced train step on `batch`
    images, by TensorFlow's profiler (its statistics from the ops' shapes)."""
    config = model.model_config
    spec = {"image": tf.TensorSpec((batch,) + tuple(config.image_shape)),
            "label": tf.TensorSpec((batch,), tf.int64)}
    graph = tf.function(model.train_step).get_concrete_function(spec).graph
    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    profiled = {node.name: node.float_ops
                for node in _walk(tf.compat.v1.profiler.profile(graph, options=options))}
    total, runs = 0, _ops_the_step_runs(graph)
    for op in graph.get_operations():
        if op.name not in runs:
            continue
        if op.type in CONTRACTIONS:
            assert profiled.get(op.name), f"no FLOP statistic for {op.name}"
            total += profiled[op.name]
        elif op.type.startswith("DepthwiseConv2dNativeBackprop"):
            total += _depthwise_backprop_flops(op)
    return total


def _graph_flops_per_image(model) -> float:
    # The difference of two batch sizes leaves out what does not grow with the batch (the
    # folded input kernel's product with its gradient, the codebook's norms).
    return (_graph_flops(model, 8) - _graph_flops(model, 4)) / 4


CASES = ([(name, "stock", None) for name in models.names()]
         + [("acai", "forward", None), ("acai", "stock", "simultaneous"),
            ("aae", "stock", "simultaneous")])


@pytest.mark.parametrize("name,path,order", CASES)
def test_the_count_is_what_the_traced_step_computes(name, path, order):
    hparams = {**tiny.HPARAMS.get(name, {}), **({"update_order": order} if order else {})}
    config = tiny.model_config(name, hparams=hparams)
    with fast_conv.creating(path):
        model = models.build(config, seed=0)
    model.compile()
    assert flops.train_step_flops(model) == pytest.approx(_graph_flops_per_image(model),
                                                          rel=1e-9)


def test_acai_at_the_lines32_configuration():
    config = ModelConfig(name="acai", image_size=32, colors=1, depth=16, latent=16,
                         latent_width=2)
    model = models.build(config, seed=0)
    model.compile()
    as_run = flops.train_step_flops(model)
    assert as_run == pytest.approx(_graph_flops_per_image(model), rel=1e-9)
    # The paper's layers: about 0.47 GFLOP per image; the folded input layer saves about a tenth.
    by_paper = flops.train_step_flops(model, folded=False)
    assert by_paper == pytest.approx(0.47e9, rel=0.01)
    assert 0.85 < as_run / by_paper < 0.95


def test_an_unknown_model_is_refused():
    model = models.build(tiny.model_config("baseline"), seed=0)
    model.registered_name = "gan"
    with pytest.raises(ValueError, match="no FLOP count for model 'gan'"):
        flops.train_step_flops(model)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
