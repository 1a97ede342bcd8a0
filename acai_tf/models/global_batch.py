"""How one replica's share of a train step stands for the whole global batch.

Under tf.distribute each replica sees b = B / N examples and gradients are SUM-reduced across
replicas. Two rules make N replicas compute what one device would on the global batch B (the
MirroredStrategy tests check both):

- `apply_mean_gradient` differentiates sum(per-example loss) / B, so the reduced gradient is
  the global-batch mean (the one loss-scaling mechanism of the project, also applying the loss
  scale under mixed_float16);
- `draw` makes a random draw for the whole global batch from a seed derived from (model seed,
  optimizer step, salt) and returns this replica's slice: draws differ across replicas, repeat
  on resume, and equal what one device would draw.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def apply_mean_gradient(optimizer, tape: tf.GradientTape, per_example_loss, variables) -> None:
    """Applies the gradient of sum(per_example_loss) / global batch to `variables`.

    This is `tf.nn.compute_average_loss` without computing the averaged loss: the weights
    1 / B enter as the tape's output gradients, so the same [b] loss that is logged is the
    tape's target, and the gradient values are the same.

    Args:
        optimizer: a built Keras optimizer, possibly a LossScaleOptimizer (mixed_float16: the
            weights are scaled up here; `apply` unscales and skips non-finite steps).
        tape: the tape that recorded `per_example_loss` (non-persistent: used once).
        per_example_loss: [b] float32 loss of each local example.
        variables: the variables `optimizer` updates.
    """
    weights = tf.fill(tf.shape(per_example_loss), 1.0 / _global_batch(per_example_loss))
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        weights = optimizer.scale_loss(weights)
    grads = tape.gradient(per_example_loss, variables, output_gradients=weights)
    optimizer.apply(grads, variables)


def _global_batch(per_example):
    replicas = tf.distribute.get_replica_context().num_replicas_in_sync
    return tf.cast(tf.shape(per_example)[0] * replicas, per_example.dtype)


def draw(sampler, local_batch, event_shape, model_seed: int, step, salt: int):
    """This replica's slice of a random tensor drawn for the global batch.

    Args:
        sampler: `tf.random.stateless_uniform` or `stateless_normal` (shape, seed) -> tensor.
        local_batch: the local batch size b (a scalar tensor).
        event_shape: static shape of one example's draw.
        model_seed: the model's seed.
        step: the optimizer's step (a scalar integer tensor or variable).
        salt: distinguishes the draws made in one step.

    Returns:
        [b, *event_shape] float32 (U[0, 1) or N(0, 1) values, as `sampler` draws).
    """
    context = tf.distribute.get_replica_context()
    replicas, replica = context.num_replicas_in_sync, context.replica_id_in_sync_group
    seed = tf.stack([tf.constant(model_seed, tf.int64), tf.cast(step, tf.int64)])
    seed = tf.random.experimental.stateless_fold_in(seed, salt)
    shape = tf.concat([[local_batch * replicas], tf.constant(event_shape, tf.int32)], 0)
    values = sampler(shape, seed=seed)
    return values[replica * local_batch:(replica + 1) * local_batch]
