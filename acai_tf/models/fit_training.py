"""`FitTraining`: what Keras' fit() needs from an autoencoder, shared by every model.

Optimizers (`compile`, each a named attribute, with their checkpoint names), the train step
(the model's own `update_networks`, then the latent classifier) and its metrics. Mixed into
`base.Autoencoder`, which provides the networks, `autoencoder_variables`, `update_networks` and
the trackers.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from acai_tf.models import losses
from acai_tf.speed.fused_adam import make_adam
from acai_tf.models import global_batch


class FitTraining:
    """Optimizers, train step and metrics of an `Autoencoder` (a keras.Model)."""

    def compile(self, optimizer=None, classifier_optimizer=None, jit_compile: bool = False,
                **kwargs):
        """Creates the autoencoder's (`self.optimizer`) and the classifier's optimizers.

        Call inside the strategy scope. Each argument defaults to Adam at the config's lr.
        """
        super().compile(optimizer=self.prepare_optimizer(optimizer, self.autoencoder_variables),
                        jit_compile=jit_compile, **kwargs)
        self.classifier_optimizer = self.prepare_optimizer(
            classifier_optimizer, self.classifier.trainable_variables)

    def prepare_optimizer(self, optimizer, variables, learning_rate=None):
        """`optimizer` (default Adam(`learning_rate` or the config's lr, epsilon 1e-8)), under
        mixed_float16 wrapped in dynamic loss scaling (float16 gradients of small losses would
        underflow), built on exactly `variables` (one built lazily inside `strategy.run` fails
        under MirroredStrategy)."""
        optimizer = optimizer or make_adam(learning_rate or self.model_config.lr)
        if (self.precision == "mixed_float16"
                and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(variables)
        return optimizer

    @property
    def optimizers_by_role(self) -> dict[str, keras.optimizers.Optimizer]:
        """{role: optimizer}; `<role>_optimizer` names it in checkpoints, `lr_<role>` in logs."""
        return {"ae": self.optimizer, "classifier": self.classifier_optimizer}

    def checkpoint_items(self) -> dict[str, Any]:
        """Trackables for `tf.train.Checkpoint`: the model and every optimizer by name."""
        return {"model": self, **{f"{role}_optimizer": optimizer
                                  for role, optimizer in self.optimizers_by_role.items()}}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras' fit() under a strategy first MEAN-reduces one distributed batch, then builds
        # what is unbuilt. Under MultiWorkerMirroredStrategy that reduce fails for a dict batch
        # ("unsupported type dict"; a tuple batch fails alike, checked with two workers: across
        # workers `reduce_to` takes one value). No public route avoids it: a built model is
        # checked only after the reduce, and Keras has no switch for it. Every network and
        # optimizer here is built in __init__ and compile(), so skipping it loses nothing.
        return

    def train_step(self, data):
        images, labels = data["image"], data["label"]
        features, logs = self.update_networks(images)
        features = ops.stop_gradient(features)
        # The latent classifier (Table 2): a probe on frozen features, with its own optimizer.
        with tf.GradientTape() as tape:
            logits = self.classifier(features)
            classifier_loss = losses.softmax_cross_entropy(labels, logits)
        global_batch.apply_mean_gradient(self.classifier_optimizer, tape, classifier_loss,
                                         self.classifier.trainable_variables)
        logs["losses/classifier"] = classifier_loss
        correct = ops.equal(ops.argmax(logits, axis=-1), ops.cast(labels, "int64"))
        logs["monitors/classifier_accuracy"] = ops.cast(correct, "float32")
        for key, values in logs.items():
            self.trackers[key].update_state(values)
        results = {key: tracker.result() for key, tracker in self.trackers.items()}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras' fit() cannot all-reduce scalar logs under MWMS (tensorflow#72388).
            results = {key: tf.reshape(value, [1]) for key, value in results.items()}
        return results

    def draw(self, sampler, local_batch, event_shape: tuple[int, ...], salt: int):
        """[b, *event_shape]: this replica's slice of this step's global-batch draw `salt`
        (`global_batch.draw` seeded by the model's seed and the autoencoder's step)."""
        return global_batch.draw(sampler, local_batch, event_shape, self.seed,
                                 self.optimizer.iterations, salt)
