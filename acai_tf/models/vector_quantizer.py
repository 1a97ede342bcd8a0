"""The VQ-VAE's vector quantiser: nearest-code lookup with an EMA-updated codebook."""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="acai_tf")
class VectorQuantizer(keras.layers.Layer):
    """Nearest-neighbour quantisation of [B, N, D] vectors against a [K, D] codebook.

    The codebook is not trained by gradients: `ema_update` moves it towards the mean of the
    vectors assigned to each code (decay 0.999, Laplace smoothing epsilon 1e-5 on the counts).
    It starts uniform on +-sqrt(3 / K) (TF1's uniform_unit_scaling on a [1, K, D] variable) and
    the EMA code sums start equal to it, with zero counts. `seed` fixes the initial codebook.
    """

    def __init__(self, num_codes: int, code_dim: int, decay: float = 0.999,
                 epsilon: float = 1e-5, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.num_codes, self.code_dim = num_codes, code_dim
        self.decay, self.epsilon, self.seed = decay, epsilon, seed
        limit = math.sqrt(3.0 / num_codes)
        init = keras.initializers.RandomUniform(-limit, limit, seed=seed)
        # Identical on every replica after all-reduced statistics; the first replica's write wins.
        sync = dict(trainable=False, aggregation="only_first_replica")
        self.codebook = self.add_weight(shape=(num_codes, code_dim), initializer=init,
                                        name="codebook", **sync)
        self.ema_counts = self.add_weight(shape=(num_codes,), initializer="zeros",
                                          name="ema_counts", **sync)
        self.ema_sums = self.add_weight(shape=(num_codes, code_dim), initializer="zeros",
                                        name="ema_sums", **sync)
        self.ema_sums.assign(self.codebook.value)
        self.built = True

    def call(self, inputs):
        """Returns (straight-through output [B, N, D], codes [B, N, D], code indices [B, N]).

        The codes are gathered by index: the same values as the reference's one-hot [B, N, K]
        matmul (a row times a one-hot vector is that row exactly) without its B*N*K*D
        multiply-adds, a third of a step's quantiser cost with K = 16,384.
        """
        codebook = self.codebook.value
        distances = (ops.sum(ops.square(inputs), axis=-1, keepdims=True)
                     - 2.0 * ops.matmul(inputs, ops.transpose(codebook))
                     + ops.sum(ops.square(codebook), axis=-1))
        indices = ops.argmin(distances, axis=-1)
        codes = ops.take(codebook, indices, axis=0)
        return inputs + ops.stop_gradient(codes - inputs), codes, indices

    def batch_statistics(self, vectors, indices):
        """The EMA update's inputs from one batch, by index (no [B*N, K] one-hot).

        Args:
            vectors: [B, N, D] the quantised vectors.
            indices: [B, N] their code indices, from `call`.

        Returns:
            (counts [K]: vectors assigned to each code, sums [K, D]: their sum per code).
        """
        flat_indices = ops.reshape(indices, (-1,))
        flat_vectors = ops.reshape(vectors, (-1, self.code_dim))
        counts = ops.segment_sum(ops.ones_like(flat_indices, dtype=flat_vectors.dtype),
                                 flat_indices, num_segments=self.num_codes)
        sums = ops.segment_sum(flat_vectors, flat_indices, num_segments=self.num_codes)
        return counts, sums

    def ema_update(self, counts, sums) -> None:
        """Moves the codebook towards the batch means of the assigned vectors.

        Args:
            counts: [K] number of vectors assigned to each code in the (global) batch.
            sums: [K, D] sum of the vectors assigned to each code.
        """
        ema_counts = self.ema_counts.value * self.decay + counts * (1.0 - self.decay)
        ema_sums = self.ema_sums.value * self.decay + sums * (1.0 - self.decay)
        total = ops.sum(ema_counts)
        smoothed = (ema_counts + self.epsilon) / (total + self.num_codes * self.epsilon) * total
        self.ema_counts.assign(ema_counts)
        self.ema_sums.assign(ema_sums)
        self.codebook.assign(ema_sums / smoothed[:, None])

    def get_config(self):
        return {**super().get_config(), "num_codes": self.num_codes, "code_dim": self.code_dim,
                "decay": self.decay, "epsilon": self.epsilon, "seed": self.seed}
