"""Batched model calls over numpy arrays and datasets, for every evaluation.

The model runs eagerly outside fit(), one tf.function per kind of call, traced once per input
shape (interpolations: once per step count and method, any number of pairs). Images are
float32 [N, S, S, C] in [-1, 1]; results come back as numpy arrays.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf


class ModelRunner:
    """Runs one model's encoder, decoder and classifier in batches."""

    def __init__(self, model):
        self.model = model
        self._reconstruct = tf.function(model.reconstruct, reduce_retracing=True)
        self._decode = tf.function(model.decode, reduce_retracing=True)
        self._encode_flat = tf.function(
            lambda x: tf.reshape(model.encode(x), [tf.shape(x)[0], -1]), reduce_retracing=True)
        self._encode_predict = tf.function(self._latents_and_predictions,
                                           reduce_retracing=True)
        self._interpolate: dict[tuple[int, str], Callable] = {}

    def _latents_and_predictions(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Flat latents [B, D] and the in-training classifier's argmax [B], with one encoding.

        Equals argmax(model.classify(images)), which would encode a second time.
        """
        latents = self.model.encode(images)
        logits = self.model.classifier(self.model.classifier_features(images, latents))
        return tf.reshape(latents, [tf.shape(images)[0], -1]), tf.argmax(logits, axis=-1)

    def reconstruct(self, images: np.ndarray, batch: int) -> np.ndarray:
        """decode(encode(images)) [N, S, S, C], `batch` images per call."""
        return _batched(self._reconstruct, images, batch)

    def decode(self, latents: np.ndarray, batch: int) -> np.ndarray:
        """Images [N, S, S, C] (raw decoder outputs) of latents [N, w, w, latent]."""
        return _batched(self._decode, latents, batch)

    def interpolate(self, ends_a: np.ndarray, ends_b: np.ndarray, steps: int,
                    pairs_per_call: int, method: str = "linear") -> np.ndarray:
        """Decoded latent interpolations [N, steps, S, S, C] from ends_a [N, S, S, C] to ends_b.

        Endpoints are included (they are reconstructions); method is "linear" or "spherical".
        """
        key = (steps, method)
        if key not in self._interpolate:
            self._interpolate[key] = tf.function(
                lambda a, b: self.model.interpolate(a, b, steps=steps, method=method),
                reduce_retracing=True)
        return np.concatenate([
            self._interpolate[key](tf.constant(ends_a[i:i + pairs_per_call]),
                                   tf.constant(ends_b[i:i + pairs_per_call])).numpy()
            for i in range(0, len(ends_a), pairs_per_call)])

    def encode(self, dataset: tf.data.Dataset, batch: int, *, with_predictions: bool
               ) -> dict[str, np.ndarray]:
        """Encodes a finite dataset of {"image", "label"} examples.

        Returns:
            {"latents": float32 [N, D] flattened latents, "labels": int64 [N], and with
            predictions "predictions": int64 [N], the in-training classifier's classes}.
        """
        chunks: dict[str, list[np.ndarray]] = {"latents": [], "labels": [], "predictions": []}
        for examples in dataset.batch(batch).prefetch(tf.data.AUTOTUNE):
            if with_predictions:
                latents, predictions = self._encode_predict(examples["image"])
                chunks["predictions"].append(predictions.numpy())
            else:
                latents = self._encode_flat(examples["image"])
            chunks["latents"].append(latents.numpy())
            chunks["labels"].append(examples["label"].numpy())
        return {key: np.concatenate(values) for key, values in chunks.items() if values}


def _batched(function: Callable, inputs: np.ndarray, batch: int) -> np.ndarray:
    return np.concatenate([function(tf.constant(inputs[i:i + batch])).numpy()
                           for i in range(0, len(inputs), batch)])
