"""Tests of the latent probe, the whitening and the Hungarian-matched clustering accuracy."""

import itertools
import sys

import numpy as np
import pytest
from scipy import optimize

from acai_tf.evaluation import representation


def _brute_force_accuracy(labels, clusters):
    """The best accuracy over every one-to-one cluster -> label map, by enumeration: ids are
    padded to K = max(labels, clusters) + 1 and each permutation of range(K) tried."""
    size = max(labels.max(), clusters.max()) + 1
    return max(np.mean(np.array(permutation)[clusters] == labels)
               for permutation in itertools.permutations(range(size)))


def _index_counting_accuracy(labels, clusters):
    """Hungarian matching on (cluster, label) counts made by index (np.add.at), every id below
    the largest one a row or column whether it occurs or not."""
    counts = np.zeros((clusters.max() + 1, labels.max() + 1), np.int64)
    np.add.at(counts, (clusters, labels), 1)
    rows, cols = optimize.linear_sum_assignment(counts, maximize=True)
    mapping = dict(zip(rows, cols))
    predicted = np.array([mapping.get(k, -1) for k in range(clusters.max() + 1)])[clusters]
    return float(np.mean(predicted == labels))


@pytest.mark.parametrize("seed", range(40))
def test_clustering_accuracy_is_the_best_one_to_one_matching(seed):
    # Up to 6 labels and clusters, in unequal numbers, with ids that skip values.
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 60))
    labels = rng.choice(rng.permutation(6)[:rng.integers(1, 7)], count)
    clusters = rng.choice(rng.permutation(6)[:rng.integers(1, 7)], count)
    accuracy = representation.clustering_accuracy(labels, clusters)
    assert accuracy == _brute_force_accuracy(labels, clusters)
    assert accuracy == _index_counting_accuracy(labels, clusters)
    mapping = representation.match_clusters(labels, clusters)
    assert len(set(mapping.values())) == len(mapping)   # one-to-one
    predicted = np.array([mapping.get(int(k), -1) for k in clusters])
    assert np.mean(predicted == labels) == accuracy


def test_match_clusters_inverts_a_permutation():
    labels = np.repeat(np.arange(4), 5)
    permutation = np.array([2, 0, 3, 1])
    assert representation.match_clusters(labels, permutation[labels]) == {2: 0, 0: 1, 3: 2, 1: 3}


def test_match_clusters_prefers_the_global_optimum_over_greedy():
    # Greedy would give cluster 0 to label 0 (3 examples) and then cluster 1 to label 1 (0):
    # total 3. The optimum sends cluster 0 -> 1 and cluster 1 -> 0: 2 + 2 = 4.
    labels = np.array([0, 0, 0, 1, 1, 0, 0])
    clusters = np.array([0, 0, 0, 0, 0, 1, 1])
    assert representation.match_clusters(labels, clusters) == {0: 1, 1: 0}
    assert representation.clustering_accuracy(labels, clusters) == pytest.approx(4 / 7)


def test_perfect_clustering_with_permuted_ids_scores_one():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 500)
    clusters = rng.permutation(10)[labels]
    assert representation.clustering_accuracy(labels, clusters) == 1.0


def test_known_partial_clustering():
    # Two clusters of 10: cluster 0 holds 8 of label 1 and 2 of label 0; cluster 1 holds 7 of
    # label 0 and 3 of label 1. Best matching 0 -> 1, 1 -> 0 gets 8 + 7 = 15 of 20 right.
    labels = np.array([1] * 8 + [0] * 2 + [0] * 7 + [1] * 3)
    clusters = np.array([0] * 10 + [1] * 10)
    assert representation.clustering_accuracy(labels, clusters) == pytest.approx(0.75)


def test_one_cluster_for_everything_scores_the_largest_class():
    labels = np.array([0, 0, 0, 1, 2])
    assert representation.clustering_accuracy(labels, np.zeros(5, int)) == pytest.approx(0.6)


def test_surplus_clusters_count_as_wrong():
    labels = np.array([0, 0, 1, 1])
    assert representation.clustering_accuracy(labels, np.array([0, 1, 2, 2])) == 0.75


def test_whitening_gives_identity_gram_matrix_on_train():
    rng = np.random.default_rng(1)
    train = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6)) + 5.0
    whitened = representation.Whitening.fit(train).apply(train)
    assert whitened.shape == (400, 6)
    np.testing.assert_allclose(whitened.mean(axis=0), 0.0, atol=1e-10)
    # Exactly I up to the (s / (s + 1e-5))**2 shrinkage of the reference epsilon.
    np.testing.assert_allclose(whitened.T @ whitened, np.eye(6), atol=1e-4)


def test_whitening_matches_the_reference_formula():
    rng = np.random.default_rng(2)
    train, test = rng.normal(size=(50, 4)), rng.normal(size=(7, 4))
    centred = train - train.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    expected = (test - train.mean(axis=0)) @ vt.T / (s + 1e-5)
    np.testing.assert_allclose(representation.Whitening.fit(train).apply(test), expected)


def test_kmeans_accuracy_on_separated_blobs():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(3, 5)) * 10

    def blobs(count):
        labels = rng.integers(0, 3, count)
        return centres[labels] + rng.normal(size=(count, 5)), labels

    train, _ = blobs(300)
    test, test_labels = blobs(100)
    accuracy = representation.kmeans_accuracy(train, test, test_labels, 3, n_init=5, seed=0)
    assert accuracy == 1.0


def test_linear_probe_on_linearly_separable_data():
    rng = np.random.default_rng(4)
    directions = rng.normal(size=(8, 4))

    def sample(count):
        features = rng.normal(size=(count, 8)) * 3 + 100.0   # offset: standardisation matters
        return features, np.argmax((features - 100.0) @ directions, axis=1)

    train, train_labels = sample(2000)
    test, test_labels = sample(500)
    accuracy = representation.linear_probe_accuracy(train, train_labels, test, test_labels, 4)
    assert accuracy > 0.97


def test_linear_probe_handles_constant_features_and_is_at_chance_on_noise():
    rng = np.random.default_rng(5)
    train = np.concatenate([rng.normal(size=(1000, 3)), np.ones((1000, 1))], axis=1)
    test = np.concatenate([rng.normal(size=(1000, 3)), np.ones((1000, 1))], axis=1)
    accuracy = representation.linear_probe_accuracy(train, rng.integers(0, 2, 1000), test,
                                                     rng.integers(0, 2, 1000), 2)
    assert 0.4 < accuracy < 0.6


def test_linear_probe_minimises_the_penalised_mean_cross_entropy():
    # The probe's objective, mean cross-entropy + 0.5 * l2 * |W|^2 over standardised features,
    # minimised independently by gradient descent: the probe's fit (its C derived from l2 and
    # N) must give the same probabilities.
    rng = np.random.default_rng(6)
    train, test = rng.normal(size=(300, 5)) * 4 + 2, rng.normal(size=(200, 5)) * 4 + 2
    labels = np.argmax(train @ rng.normal(size=(5, 3)) + rng.normal(size=(300, 3)) * 3, axis=1)
    l2 = 0.05   # strong: far from the unpenalised optimum, and gradient descent converges fast
    features = (train - train.mean(axis=0)) / train.std(axis=0)
    weights, bias, onehot = np.zeros((5, 3)), np.zeros(3), np.eye(3)[labels]

    def softmax(logits):
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    for _ in range(5000):
        error = (softmax(features @ weights + bias) - onehot) / len(features)
        weights -= 0.5 * (features.T @ error + l2 * weights)
        bias -= 0.5 * error.sum(axis=0)
    expected = softmax((test - train.mean(axis=0)) / train.std(axis=0) @ weights + bias)
    probe = representation.fit_linear_probe(train, labels, l2=l2)
    np.testing.assert_allclose(probe.predict_proba(test), expected, atol=1e-4)
    # A penalty 100 times weaker is another optimum: l2 reaches the fit.
    weaker = representation.fit_linear_probe(train, labels, l2=l2 / 100)
    assert np.abs(weaker.predict_proba(test) - expected).max() > 1e-2


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="non-finite"):
        representation.Whitening.fit(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="nclass"):
        representation.linear_probe_accuracy(np.zeros((2, 1)), np.array([0, 3]),
                                             np.zeros((1, 1)), np.array([0]), 2)
    with pytest.raises(ValueError):
        representation.clustering_accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="two classes"):
        representation.linear_probe_accuracy(np.zeros((2, 1)), np.array([1, 1]),
                                             np.zeros((1, 1)), np.array([0]), 2)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
