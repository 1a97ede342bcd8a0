"""How much class structure frozen latents hold: a linear probe and K-means clustering accuracy.

Both take flattened latents (float [N, D]) and integer labels, and need no TensorFlow.

- Linear probe: a softmax regression fit on train latents (standardised with the train mean and
  std), scored on test latents, by scikit-learn (`PROBE_IMPLEMENTATION`, which evaluation
  results record). The paper's Table 2 reports the in-training classifier instead (a dense
  layer trained on the moving latents); the probe is its post-hoc counterpart.
- Clustering (the paper's Table 3, reference `cluster.py`): whiten with the SVD of the centred
  train latents, X' = X_c V^T / (s + 1e-5) keeping every component, fit
  KMeans(init="random", n_clusters=nclass, max_iter=1000) on train, predict test, and score test
  after matching clusters to labels with the Hungarian algorithm on the contingency matrix.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
from scipy import optimize

# The reference adds this to the singular values before dividing by them.
WHITENING_EPSILON = 1e-5
# What fits the linear probe, as evaluation results name it.
PROBE_IMPLEMENTATION = "sklearn LogisticRegression+StandardScaler"


def match_clusters(labels: np.ndarray, clusters: np.ndarray) -> dict[int, int]:
    """The one-to-one cluster -> label assignment that maximises the examples labelled right.

    Args:
        labels: int [N] true labels; clusters: int [N] cluster ids.

    Returns:
        {cluster id: label} over the clusters that occur; with more clusters than labels, the
        surplus clusters are absent (their examples count as wrong).
    """
    labels, clusters = _check_pairs(labels, clusters)
    counts, cluster_ids, label_ids = _cluster_label_counts(labels, clusters)
    rows, cols = optimize.linear_sum_assignment(counts, maximize=True)
    return {int(cluster_ids[row]): int(label_ids[col]) for row, col in zip(rows, cols)}


def clustering_accuracy(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Fraction of examples whose cluster is matched to their label (Hungarian matching).

    Args:
        labels: int [N] true labels; clusters: int [N] cluster ids, N >= 1.

    Returns:
        Accuracy in [0, 1]; 1 for a perfect clustering whatever the cluster numbering.
    """
    labels, clusters = _check_pairs(labels, clusters)
    counts, _, _ = _cluster_label_counts(labels, clusters)
    rows, cols = optimize.linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / len(labels))


def _cluster_label_counts(labels: np.ndarray, clusters: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int64 [K, C] counts of (cluster, label) pairs over the K clusters and C labels that
    occur, with the cluster ids [K] and labels [C] of its rows and columns (ascending)."""
    # Imported here: scikit-learn is slow to import and only the metrics need it.
    from sklearn.metrics import cluster  # pylint: disable=import-outside-toplevel

    return cluster.contingency_matrix(clusters, labels), np.unique(clusters), np.unique(labels)


@dataclasses.dataclass(frozen=True)
class Whitening:
    """The reference's SVD whitening, fit on train latents and applied to any latents.

    Attributes:
        mean: float64 [D], the train mean.
        components: float64 [R, D], right singular vectors V^T of the centred train latents,
            R = min(N, D) (every component is kept).
        singular_values: float64 [R], in decreasing order.
    """

    mean: np.ndarray
    components: np.ndarray
    singular_values: np.ndarray

    @classmethod
    def fit(cls, train: np.ndarray) -> "Whitening":
        """Fits on train latents float [N, D]."""
        train = _as_matrix(train, "train")
        mean = train.mean(axis=0)
        _, singular_values, components = np.linalg.svd(train - mean, full_matrices=False)
        return cls(mean=mean, components=components, singular_values=singular_values)

    def apply(self, latents: np.ndarray) -> np.ndarray:
        """Maps float [M, D] to float64 [M, R]; on the fitting set X'^T X' = I (cov. I / N)."""
        centred = _as_matrix(latents, "latents") - self.mean
        return centred @ self.components.T / (self.singular_values + WHITENING_EPSILON)


def kmeans_accuracy(train: np.ndarray, test: np.ndarray, test_labels: np.ndarray, nclass: int,
                    *, n_init: int = 1000, seed: int = 0, max_iter: int = 1000) -> float:
    """The reference clustering accuracy: whiten, K-means on train, matched accuracy on test.

    Args:
        train: float [N, D] train latents (the reference: the first 60,000 train examples).
        test: float [M, D] test latents.
        test_labels: int [M] in [0, nclass).
        nclass: number of clusters (the number of classes).
        n_init: K-means restarts, the best inertia is kept (the paper: 1000).
        seed: seeds the random initialisations.
        max_iter: Lloyd iterations per restart.

    Returns:
        Test accuracy in [0, 1].
    """
    # Imported here: scikit-learn is slow to import and only clustering needs it.
    from sklearn.cluster import KMeans  # pylint: disable=import-outside-toplevel

    whitening = Whitening.fit(train)
    kmeans = KMeans(n_clusters=nclass, init="random", n_init=n_init, max_iter=max_iter,
                    random_state=seed)
    kmeans.fit(whitening.apply(train))
    return clustering_accuracy(test_labels, kmeans.predict(whitening.apply(test)))


def fit_linear_probe(train: np.ndarray, train_labels: np.ndarray, *, l2: float = 1e-4,
                     max_iter: int = 500) -> Any:
    """Fits the probe, `PROBE_IMPLEMENTATION`, on frozen train latents.

    Features are standardised with the train mean and std (a constant feature keeps scale 1, so
    it stays at 0), then an L2-penalised multinomial logistic regression is fit by
    scikit-learn's L-BFGS from zero weights (deterministic).

    Args:
        train: float [N, D] train latents.
        train_labels: int [N], non-negative, at least two distinct values.
        l2: weight of 0.5 * |W|^2 (not on the biases), added to the mean cross-entropy.
        max_iter: L-BFGS iterations.

    Returns:
        The fitted scikit-learn Pipeline (StandardScaler, LogisticRegression): `predict` maps
        float [M, D] to labels int [M], `predict_proba` to probabilities [M, classes seen].
    """
    # Imported here: scikit-learn is slow to import and only the probe and clustering need it.
    # pylint: disable=import-outside-toplevel
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    train = _as_matrix(train, "train")
    train_labels = _labels(train_labels, len(train))
    if len(np.unique(train_labels)) < 2:
        raise ValueError("the probe needs train labels of at least two classes")
    # scikit-learn's lbfgs minimises C * (sum of the N cross-entropies) + 0.5 * |W|^2, biases
    # unpenalised; divided by C * N that is mean cross-entropy + 0.5 / (C * N) * |W|^2, the
    # probe's objective when C = 1 / (l2 * N). tol is its L-BFGS-B gradient tolerance (gtol):
    # scipy's default, 1e-5, under which the probe was first fit by hand.
    classifier = LogisticRegression(C=1.0 / (l2 * len(train)), tol=1e-5, max_iter=max_iter)
    probe = make_pipeline(StandardScaler(), classifier)
    # L-BFGS makes hundreds of small BLAS and OpenMP calls, and multithreaded ones spend them
    # waiting for busy cores: on a shared 2-core machine one thread is the fastest.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # max_iter is the probe's budget: stopping there is expected, not worth a warning.
        warnings.simplefilter("ignore", ConvergenceWarning)
        probe.fit(train, train_labels)
    return probe


def linear_probe_accuracy(train: np.ndarray, train_labels: np.ndarray, test: np.ndarray,
                          test_labels: np.ndarray, nclass: int, *, l2: float = 1e-4,
                          max_iter: int = 500) -> float:
    """Test accuracy of the softmax regression probe (`fit_linear_probe`) on frozen latents.

    Args:
        train: float [N, D] train latents; train_labels: int [N] in [0, nclass), at least two
            distinct labels.
        test: float [M, D] test latents; test_labels: int [M] in [0, nclass).
        nclass: number of classes.
        l2, max_iter: see `fit_linear_probe`.

    Returns:
        Test accuracy in [0, 1].
    """
    train, test = _as_matrix(train, "train"), _as_matrix(test, "test")
    train_labels, test_labels = _labels(train_labels, len(train)), _labels(test_labels, len(test))
    if max(train_labels.max(), test_labels.max()) >= nclass:
        raise ValueError(f"labels must be below nclass={nclass}")
    probe = fit_linear_probe(train, train_labels, l2=l2, max_iter=max_iter)
    return float(np.mean(probe.predict(test) == test_labels))


def _as_matrix(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, np.float64)
    if values.ndim != 2 or len(values) == 0:
        raise ValueError(f"{name} must be a non-empty [N, D] array, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} holds non-finite values")
    return values


def _labels(values: np.ndarray, count: int) -> np.ndarray:
    values = np.asarray(values)
    if values.shape != (count,) or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"labels must be int [{count}], got {values.dtype} {values.shape}")
    if count and values.min() < 0:
        raise ValueError("labels must be non-negative")
    return values.astype(np.int64)


def _check_pairs(labels: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    return _labels(labels, labels.size), _labels(clusters, labels.size)
