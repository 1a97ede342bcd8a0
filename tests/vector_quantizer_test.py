"""The VQ-VAE quantiser's index-based lookup and EMA statistics against the reference's one-hot
formulation (codes = one_hot @ codebook, counts = sum(one_hot), sums = one_hot^T @ vectors)."""

import sys

import numpy as np
import pytest

from acai_tf.models import vector_quantizer


def _quantizer_and_vectors(num_codes=64, dim=8, batch=5, count=3):
    quantizer = vector_quantizer.VectorQuantizer(num_codes, dim, seed=3)
    rng = np.random.default_rng(0)
    # Vectors near codes, several of them sharing a code, so counts above 1 are exercised.
    codebook = quantizer.codebook.numpy()
    picks = rng.integers(0, num_codes // 4, size=(batch, count))
    vectors = (codebook[picks] + 0.01 * rng.standard_normal((batch, count, dim))).astype(
        np.float32)
    return quantizer, vectors, codebook


def test_codes_are_the_nearest_codebook_rows_as_by_one_hot_matmul():
    quantizer, vectors, codebook = _quantizer_and_vectors()
    straight_through, codes, indices = (np.asarray(t) for t in quantizer(vectors))
    distances = ((vectors[:, :, None, :] - codebook[None, None]) ** 2).sum(-1)
    np.testing.assert_array_equal(indices, distances.argmin(-1))
    one_hot = np.eye(quantizer.num_codes, dtype=np.float32)[indices]
    np.testing.assert_array_equal(codes, one_hot @ codebook)
    np.testing.assert_allclose(straight_through, codes, atol=1e-6)


def test_batch_statistics_equal_the_one_hot_counts_and_sums():
    quantizer, vectors, _ = _quantizer_and_vectors()
    _, _, indices = quantizer(vectors)
    counts, sums = (np.asarray(t) for t in quantizer.batch_statistics(vectors, indices))
    one_hot = np.eye(quantizer.num_codes, dtype=np.float32)[np.asarray(indices)].reshape(
        -1, quantizer.num_codes)
    assert counts.shape == (quantizer.num_codes,) and sums.shape == (quantizer.num_codes, 8)
    np.testing.assert_array_equal(counts, one_hot.sum(0))
    assert counts.max() > 1
    np.testing.assert_allclose(sums, one_hot.T @ vectors.reshape(-1, 8), rtol=1e-6, atol=1e-6)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
