"""`Autoencoder`: what every model of the paper shares.

A model owns an encoder, a decoder, the paper's single-layer latent classifier (trained on
`stop_gradient` features with its own optimizer, for Table 2) and its metric trackers. Subclasses
implement `autoencoder_update`, which runs one step of their own losses and optimizers.

Training under tf.distribute follows three rules, checked by the MirroredStrategy tests:
- every update goes through `apply_gradients`, which differentiates sum(per_example) / global
  batch, so that the SUM all-reduce of gradients across replicas yields the global-batch mean
  (and which applies the loss scale under mixed_float16);
- trackers receive unscaled per-example values, so logged losses are true means;
- random draws are made for the whole global batch from a seed derived from (model seed,
  optimizer step, salt), and each replica takes its own slice: draws differ across replicas and
  equal what one device would draw for the same global batch.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

import keras
import tensorflow as tf
from keras import ops

from acai_tf import losses, model_hparams, networks
from acai_tf.config import ModelConfig
from acai_tf.fused_adam import make_adam


class Autoencoder(keras.Model):
    """Base class: networks, latent classifier, trackers, RNG and distribution plumbing.

    Images are float32 [B, S, S, colors] in [-1, 1]; latents are [B, w, w, latent] maps.
    """

    HPARAMS: ClassVar[type[model_hparams.HParams]] = model_hparams.HParams
    LOG_KEYS: ClassVar[tuple[str, ...]] = ("losses/reconstruction",)
    registered_name: ClassVar[str] = ""

    def __init__(self, config: ModelConfig, seed: int = 0, precision: str = "float32",
                 **kwargs):
        """Builds every network; the initial weights are a function of `seed` alone.

        `precision` is the dtype policy of the conv networks (their outputs are float32 under
        every policy); it is not part of `get_config`, so a rebuilt model is float32.

        Seeding resets Keras' global RNG (`keras.utils.set_random_seed`): the same seed must
        give the same weights on every worker and in every rebuild of a run.
        """
        kwargs.setdefault("name", config.name)
        super().__init__(**kwargs)
        keras.utils.set_random_seed(int(seed))
        self.model_config = config
        self.seed = int(seed)
        self.precision = precision
        self.hp = self.resolve_hparams(config.hparams)
        scales = config.scales
        self.encoder = networks.make_encoder(
            config.image_size, config.colors, config.depth, config.latent, scales,
            dtype=precision)
        self.decoder = networks.make_decoder(
            config.latent_width, config.latent, config.depth, self.decoder_output_colors, scales,
            dtype=precision)
        self.build_extra_layers()
        self.classifier = keras.layers.Dense(config.nclass, name="latent_classifier")
        self.classifier.build((None, self.classifier_feature_dim))
        log_keys = self.LOG_KEYS + ("losses/classifier", "monitors/classifier_accuracy")
        # Keras variable names may not contain "/", so trackers get flat names.
        self.trackers = {key: keras.metrics.Mean(name=key.replace("/", "_")) for key in log_keys}
        self.built = True

    # ----------------------------------------------------------------------------------------
    # Configuration

    @classmethod
    def resolve_hparams(cls, given: model_hparams.HParams | Mapping[str, Any]
                        ) -> model_hparams.HParams:
        """`given` (an instance, or values by name over the defaults) as the model's typed
        hyperparameters, an `HPARAMS` instance; an unknown name or bad value is a ConfigError."""
        return cls.HPARAMS.resolve(given)

    def get_config(self) -> dict[str, Any]:
        return {"config": self.model_config.to_dict(), "seed": self.seed}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Autoencoder":
        return cls(ModelConfig.from_dict(config["config"]), seed=config.get("seed", 0))

    # ----------------------------------------------------------------------------------------
    # Hooks for subclasses

    @property
    def decoder_output_colors(self) -> int:
        return self.model_config.colors

    @property
    def latent_dim(self) -> int:
        width, _, channels = self.model_config.latent_shape
        return width * width * channels

    @property
    def classifier_feature_dim(self) -> int:
        return self.latent_dim

    def build_extra_layers(self) -> None:
        """Creates and builds layers beyond the encoder and decoder (before the classifier)."""

    def make_extra_optimizers(self) -> dict[str, tuple[keras.optimizers.Optimizer, list]]:
        """Optimizers beyond the autoencoder's and the classifier's, with their variables."""
        return {}

    @property
    def autoencoder_variables(self) -> list:
        return self.encoder.trainable_variables + self.decoder.trainable_variables

    def autoencoder_update(self, images: tf.Tensor) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        """Runs one training step of the model's own losses.

        Args:
            images: [b, S, S, colors] local batch in [-1, 1].

        Returns:
            (classifier features [b, F] (gradients stopped by the caller),
             per-example log values {key: [b]} for the keys of LOG_KEYS).
        """
        raise NotImplementedError

    # ----------------------------------------------------------------------------------------
    # Public API used by training, evaluation and export

    def encode(self, images, training: bool = False):
        """Images [B, S, S, colors] in [-1, 1] -> latents [B, w, w, latent]."""
        return self.encoder(images, training=training)

    def decode(self, latents, training: bool = False):
        """Latents [B, w, w, latent] -> images [B, S, S, colors] (trained towards [-1, 1])."""
        return self.decoder(latents, training=training)

    def reconstruct(self, images):
        """Images [B, S, S, colors] -> decode(encode(images)), same shape."""
        return self.decode(self.encode(images))

    def classifier_features(self, images, latents=None):
        """Features [B, F] the latent classifier sees: by default the flattened latents."""
        if latents is None:
            latents = self.encode(images)
        return ops.reshape(latents, (ops.shape(latents)[0], -1))

    def classify(self, images):
        """Logits [B, nclass] of the in-training latent classifier."""
        return self.classifier(self.classifier_features(images))

    def interpolate(self, images_a, images_b, steps: int = 16, method: str = "linear"):
        """Decodes `steps` latent interpolants from each image in `images_a` to its partner.

        Args:
            images_a, images_b: [B, S, S, colors] in [-1, 1].
            steps: interpolants per pair, endpoints included (>= 2).
            method: "linear" or "spherical" (slerp on the flattened latents; pairs at an angle
                below 1e-6 fall back to linear, where the reference would give NaN).

        Returns:
            [B, steps, S, S, colors]; the first and last images are reconstructions.
        """
        z_a, z_b = self.encode(images_a), self.encode(images_b)
        mixed = interpolate_latents(z_a, z_b, steps, method)
        shape = ops.shape(mixed)
        decoded = self.decode(ops.reshape(mixed, (-1,) + tuple(self.model_config.latent_shape)))
        return ops.reshape(decoded, (shape[0], steps) + tuple(self.model_config.image_shape))

    def call(self, images, training: bool = False):
        return self.reconstruct(images)

    # ----------------------------------------------------------------------------------------
    # Optimizers

    def compile(self, optimizer=None, classifier_optimizer=None, extra_optimizers=None,
                jit_compile: bool = False, **kwargs):
        """Creates the optimizers (Adam, lr from the config, epsilon 1e-8 unless given).

        Call inside the strategy scope. Every optimizer is built here on exactly the variables
        it updates: one built lazily inside `strategy.run` fails under MirroredStrategy.

        Args:
            optimizer: the autoencoder optimizer (becomes `self.optimizer`).
            classifier_optimizer: the latent classifier's optimizer.
            extra_optimizers: {name: optimizer} overriding `make_extra_optimizers` (e.g. the
                ACAI critic's), mostly for tests.
        """
        optimizer = self._loss_scaled(optimizer or make_adam(self.model_config.lr))
        super().compile(optimizer=optimizer, jit_compile=jit_compile, **kwargs)
        self.optimizer.build(self.autoencoder_variables)
        self.classifier_optimizer = self._loss_scaled(
            classifier_optimizer or make_adam(self.model_config.lr))
        self.classifier_optimizer.build(self.classifier.trainable_variables)
        self.extra_optimizers = {}
        for name, (default, variables) in self.make_extra_optimizers().items():
            chosen = self._loss_scaled((extra_optimizers or {}).get(name, default))
            chosen.build(variables)
            self.extra_optimizers[name] = chosen
            setattr(self, f"{name}_optimizer", chosen)

    def _loss_scaled(self, optimizer):
        """Under mixed_float16, `optimizer` wrapped in dynamic loss scaling (float16 gradients
        of small losses would underflow); otherwise `optimizer` itself."""
        if (self.precision == "mixed_float16"
                and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)):
            return keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer

    def checkpoint_items(self) -> dict[str, Any]:
        """Trackables for `tf.train.Checkpoint`: the model and every optimizer by name."""
        items = {"model": self, "ae_optimizer": self.optimizer,
                 "classifier_optimizer": self.classifier_optimizer}
        items.update({f"{name}_optimizer": opt for name, opt in self.extra_optimizers.items()})
        return items

    # ----------------------------------------------------------------------------------------
    # Training step

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras' fit() under a strategy pulls one batch and all-reduces it to build the model
        # symbolically. Every network and optimizer here is built in __init__ and compile(),
        # so there is nothing to build; the all-reduce of a dict batch also fails under
        # MultiWorkerMirroredStrategy ("unsupported type dict").
        return

    def train_step(self, data):
        images, labels = data["image"], data["label"]
        features, logs = self.autoencoder_update(images)
        features = ops.stop_gradient(features)
        with tf.GradientTape() as tape:
            logits = self.classifier(features)
            classifier_loss = losses.softmax_cross_entropy(labels, logits)
        self.apply_gradients(self.classifier_optimizer, tape, classifier_loss,
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

    def apply_gradients(self, optimizer, tape, per_example_loss, variables) -> None:
        """Applies the gradient of sum(per_example_loss) / global batch to `variables`.

        Gradients are SUM-reduced across replicas, so this yields the global-batch mean. The
        1 / global-batch weights enter as output gradients, so the scaled loss need not have
        been computed under the tape.
        """
        weights = tf.fill(tf.shape(per_example_loss), 1.0 / self._global_batch(per_example_loss))
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            # mixed_float16: scaled up here, unscaled (and skipped if not finite) by apply().
            weights = optimizer.scale_loss(weights)
        grads = tape.gradient(per_example_loss, variables, output_gradients=weights)
        optimizer.apply(grads, variables)

    @staticmethod
    def _global_batch(per_example):
        replicas = tf.distribute.get_replica_context().num_replicas_in_sync
        return tf.cast(tf.shape(per_example)[0] * replicas, per_example.dtype)

    def draw(self, sampler, local_batch, event_shape: tuple[int, ...], salt: int):
        """Draws this replica's slice of a global-batch random tensor.

        Args:
            sampler: `tf.random.stateless_uniform` or `stateless_normal` (shape, seed) -> tensor.
            local_batch: the local batch size b (a scalar tensor).
            event_shape: static shape of one example's draw.
            salt: distinguishes the draws made in one step.

        Returns:
            [b, *event_shape] float32.
        """
        context = tf.distribute.get_replica_context()
        replicas, replica = context.num_replicas_in_sync, context.replica_id_in_sync_group
        seed = tf.stack([tf.constant(self.seed, tf.int64),
                         tf.cast(self.optimizer.iterations, tf.int64)])
        seed = tf.random.experimental.stateless_fold_in(seed, salt)
        shape = tf.concat([[local_batch * replicas], tf.constant(event_shape, tf.int32)], 0)
        values = sampler(shape, seed=seed)
        return values[replica * local_batch:(replica + 1) * local_batch]


def interpolate_latents(z_a, z_b, steps: int, method: str = "linear"):
    """Interpolants between latent maps, endpoints included.

    Args:
        z_a, z_b: [B, ...] latents.
        steps: number of interpolants (>= 2).
        method: "linear" or "spherical".

    Returns:
        [B, steps, ...].
    """
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    if method not in ("linear", "spherical"):
        raise ValueError(f"method must be 'linear' or 'spherical', got {method!r}")
    batch = ops.shape(z_a)[0]
    flat_a, flat_b = ops.reshape(z_a, (batch, 1, -1)), ops.reshape(z_b, (batch, 1, -1))
    t = ops.reshape(ops.linspace(0.0, 1.0, steps), (1, steps, 1))
    if method == "spherical":
        mixed = spherical_mix(flat_a, flat_b, t)
    else:
        mixed = flat_a * (1.0 - t) + flat_b * t
    return ops.reshape(mixed, (batch, steps) + tuple(ops.shape(z_a)[1:]))


def spherical_mix(flat_a, flat_b, t):
    """Slerp between flattened latents.

    Args:
        flat_a, flat_b: [B, 1, D] endpoints.
        t: [1, T, 1] positions in [0, 1].

    Returns:
        [B, T, D]; pairs at an angle below 1e-6 fall back to linear interpolation (the
        reference's slerp gives NaN for identical endpoints).
    """
    linear = flat_a * (1.0 - t) + flat_b * t
    norm_a = ops.sqrt(ops.sum(ops.square(flat_a), axis=-1, keepdims=True))
    norm_b = ops.sqrt(ops.sum(ops.square(flat_b), axis=-1, keepdims=True))
    cosine = ops.sum(flat_a * flat_b, axis=-1, keepdims=True) / ops.maximum(
        norm_a * norm_b, 1e-12)
    omega = ops.arccos(ops.clip(cosine, -1.0, 1.0))
    sin_omega = ops.sin(omega)
    safe = ops.where(sin_omega > 1e-6, sin_omega, 1.0)
    spherical = (ops.sin((1.0 - t) * omega) * flat_a + ops.sin(t * omega) * flat_b) / safe
    return ops.where(sin_omega > 1e-6, spherical, linear)
