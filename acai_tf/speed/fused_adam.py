"""Adam with the reference's TF1 defaults, updating each variable with one fused kernel.

The reference code trains with TF1's `AdamOptimizer`, whose update is the fused `ApplyAdam`
kernel. Keras 3's Adam builds the same update from about ten element-wise ops per variable
(66 variables in ACAI's three optimizers: some 600 small ops a step). On TensorFlow,
`FusedAdam` runs `ResourceApplyAdam` instead, the same maths in one op per variable:

    m  <- beta_1 m + (1 - beta_1) g            v <- beta_2 v + (1 - beta_2) g^2
    lr_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
    var <- var - lr_t m / (sqrt(v) + epsilon)

Its slots are Keras Adam's (`_momentums`, `_velocities`), so checkpoints written with either
optimizer restore into the other. Other backends, and amsgrad, take Keras' own update.
"""

from __future__ import annotations

import keras
from keras import ops

ADAM_EPSILON = 1e-8  # TF1 AdamOptimizer's default; Keras defaults to 1e-7.


@keras.saving.register_keras_serializable(package="acai_tf")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` whose TensorFlow update is one ResourceApplyAdam per variable."""

    def update_step(self, gradient, variable, learning_rate):
        if keras.backend.backend() != "tensorflow" or self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf  # pylint: disable=import-outside-toplevel

        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            beta1_power=ops.power(ops.cast(self.beta_1, dtype), step),
            beta2_power=ops.power(ops.cast(self.beta_2, dtype), step),
            lr=ops.cast(learning_rate, dtype), beta1=ops.cast(self.beta_1, dtype),
            beta2=ops.cast(self.beta_2, dtype), epsilon=ops.cast(self.epsilon, dtype),
            grad=ops.cast(gradient, dtype), use_locking=False)
        return None


def make_adam(learning_rate: float) -> FusedAdam:
    """Adam with the reference's TF1 defaults (beta1 0.9, beta2 0.999, epsilon 1e-8)."""
    return FusedAdam(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=ADAM_EPSILON)
