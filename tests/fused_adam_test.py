"""FusedAdam: the reference's Adam settings, Keras Adam's updates, one kernel per variable."""

import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from acai_tf.speed import fused_adam


def test_defaults_are_tf1_adams():
    optimizer = fused_adam.make_adam(3e-4)
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.9, 0.999, 1e-8)
    assert float(np.asarray(optimizer.learning_rate)) == pytest.approx(3e-4)


def _train(optimizer, steps=4):
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype("float32"))
                 for shape in ((3, 3, 2, 4), (4,), (7,))]
    optimizer.build(variables)
    grads = [[tf.constant(rng.normal(size=v.shape), tf.float32) for v in variables]
             for _ in range(steps)]
    apply = tf.function(lambda g: optimizer.apply(g, variables))
    for step_grads in grads:
        apply(step_grads)
    return [v.numpy() for v in variables], optimizer


def test_updates_equal_keras_adams():
    settings = dict(learning_rate=1e-2, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    fused, optimizer = _train(fused_adam.FusedAdam(**settings))
    stock, _ = _train(keras.optimizers.Adam(**settings))
    for a, b in zip(fused, stock):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert int(optimizer.iterations.numpy()) == 4


def test_the_graph_has_one_apply_adam_per_variable():
    optimizer = fused_adam.make_adam(1e-3)
    variables = [keras.Variable(np.zeros(shape, "float32")) for shape in ((2, 2), (3,))]
    optimizer.build(variables)
    graph = tf.function(lambda g: optimizer.apply(g, variables)).get_concrete_function(
        [tf.TensorSpec(v.shape, tf.float32) for v in variables]).graph
    types = [op.type for op in graph.get_operations()]
    assert types.count("ResourceApplyAdam") == len(variables)


def test_checkpoints_restore_across_keras_and_fused_adam(tmp_path):
    _, stock = _train(keras.optimizers.Adam(learning_rate=1e-2))
    path = tf.train.Checkpoint(optimizer=stock).save(str(tmp_path / "ckpt"))
    fresh = fused_adam.FusedAdam(learning_rate=1e-2)
    fresh.build([keras.Variable(np.zeros(v.shape, "float32"))
                 for v in stock._trainable_variables])  # pylint: disable=protected-access
    tf.train.Checkpoint(optimizer=fresh).restore(path).assert_existing_objects_matched()
    assert int(fresh.iterations.numpy()) == 4
    np.testing.assert_array_equal(fresh._momentums[0].numpy(),  # pylint: disable=protected-access
                                  stock._momentums[0].numpy())  # pylint: disable=protected-access


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
