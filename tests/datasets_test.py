"""Tests for the dataset registry, on the real MNIST and on synthetic images."""

import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from acai_tf import datasets

TFDS_NAMES = ("mnist32", "svhn32", "cifar10", "celeba32")


def _images_and_labels(dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Reads a finite unbatched dataset into arrays [N, 32, 32, C] and [N]."""
    batches = list(dataset.batch(2000).as_numpy_iterator())
    return (np.concatenate([b["image"] for b in batches]),
            np.concatenate([b["label"] for b in batches]))


# Registry


def test_names_and_static_info():
    assert datasets.names() == ("lines32", "mnist32", "svhn32", "cifar10", "celeba32")
    info = datasets.get_info("mnist32")
    assert (info.image_size, info.colors, info.nclass, info.tfds_name) == (32, 1, 10, "mnist")
    assert (info.train_size, info.test_size) == (60_000, 10_000)
    assert datasets.get_info("celeba32").nclass == 1
    assert datasets.get_info("svhn32").colors == 3
    assert datasets.get_info("lines32").tfds_name is None


def test_unknown_dataset_lists_known_names():
    with pytest.raises(ValueError, match=r"unknown dataset 'nope'; known: lines32, mnist32"):
        datasets.get_info("nope")
    with pytest.raises(ValueError, match="unknown dataset 'tfds:no_such_dataset'"):
        datasets.get_info("tfds:no_such_dataset")


@pytest.mark.parametrize("name", TFDS_NAMES)
def test_check_prepared_fails_fast_with_the_prepare_command(name, tmp_path):
    start = time.monotonic()
    with pytest.raises(datasets.DatasetNotPreparedError) as raised:
        datasets.check_prepared(name, str(tmp_path))
    assert time.monotonic() - start < 2.0
    message = str(raised.value)
    assert "\n" not in message
    assert f"python -m flags.prepare_data --dataset={name} --data_dir={tmp_path}" in message
    assert isinstance(raised.value, RuntimeError)


def test_loading_unprepared_data_raises_instead_of_downloading(tmp_path):
    start = time.monotonic()
    with pytest.raises(datasets.DatasetNotPreparedError):
        datasets.train_stream("cifar10", batch_size=8, seed=0, data_dir=str(tmp_path))
    with pytest.raises(datasets.DatasetNotPreparedError):
        datasets.test_set("svhn32", data_dir=str(tmp_path))
    assert time.monotonic() - start < 2.0


def test_default_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ACAI_TFDS_DIR", str(tmp_path))
    assert datasets.default_data_dir() == str(tmp_path)
    with pytest.raises(datasets.DatasetNotPreparedError, match=str(tmp_path)):
        datasets.check_prepared("mnist32")


# Real MNIST


def test_mnist_test_set(mnist_data_dir):
    test = datasets.test_set("mnist32", data_dir=mnist_data_dir)
    assert test.element_spec["image"].shape == (32, 32, 1)
    assert test.element_spec["image"].dtype == tf.float32
    assert test.element_spec["label"].shape == () and test.element_spec["label"].dtype == tf.int64
    images, labels = _images_and_labels(test)
    assert images.shape == (10_000, 32, 32, 1)
    assert images.min() == -1.0 and images.max() == 1.0
    border = np.ones([32, 32], bool)
    border[2:30, 2:30] = False
    assert np.all(images[:, border] == -1.0)
    assert set(np.unique(labels)) == set(range(10))
    # Stored order is fixed: two reads agree.
    again = next(iter(datasets.test_set("mnist32", data_dir=mnist_data_dir).batch(64)))
    np.testing.assert_array_equal(again["image"].numpy(), images[:64])


def test_mnist_train_once_is_the_unshuffled_train_split(mnist_data_dir):
    once = datasets.train_once("mnist32", data_dir=mnist_data_dir)
    assert int(once.cardinality()) == datasets.get_info("mnist32").train_size == 60_000
    first = next(iter(once.batch(64)))
    again = next(iter(datasets.train_once("mnist32", data_dir=mnist_data_dir).batch(64)))
    np.testing.assert_array_equal(first["label"].numpy(), again["label"].numpy())
    assert first["image"].shape == (64, 32, 32, 1)


def test_mnist_train_stream_is_batched_shuffled_and_seeded(mnist_data_dir):
    def first_batch(seed):
        stream = datasets.train_stream("mnist32", batch_size=64, seed=seed,
                                       data_dir=mnist_data_dir)
        assert stream.element_spec["image"].shape == (64, 32, 32, 1)
        assert stream.element_spec["label"].shape == (64,)
        assert int(stream.cardinality()) == int(tf.data.INFINITE_CARDINALITY)
        return next(iter(stream))

    batch = first_batch(seed=1)
    images, labels = batch["image"].numpy(), batch["label"].numpy()
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert labels.min() >= 0 and labels.max() <= 9
    unshuffled = next(iter(datasets.train_once("mnist32", data_dir=mnist_data_dir).batch(64)))
    assert not np.array_equal(labels, unshuffled["label"].numpy())
    np.testing.assert_array_equal(first_batch(seed=1)["image"].numpy(), images)
    assert not np.array_equal(first_batch(seed=2)["image"].numpy(), images)


def test_generic_tfds_path_matches_mnist32(mnist_data_dir):
    info = datasets.get_info("tfds:mnist", data_dir=mnist_data_dir)
    assert (info.colors, info.nclass, info.train_size, info.test_size) == (1, 10, 60_000, 10_000)
    generic = next(iter(datasets.test_set("tfds:mnist", data_dir=mnist_data_dir).batch(256)))
    named = next(iter(datasets.test_set("mnist32", data_dir=mnist_data_dir).batch(256)))
    np.testing.assert_array_equal(generic["image"].numpy(), named["image"].numpy())
    np.testing.assert_array_equal(generic["label"].numpy(), named["label"].numpy())


# lines32 (acai_tf.lines.dataset) through the registry


def test_lines32_through_the_registry():
    datasets.check_prepared("lines32", "/nonexistent")
    batch = next(iter(datasets.train_stream("lines32", batch_size=16, seed=0)))
    assert batch["image"].shape == (16, 32, 32, 1)
    assert batch["label"].shape == (16,)
    test = next(iter(datasets.test_set("lines32", seed=0).batch(8)))
    assert test["image"].shape == (8, 32, 32, 1)
    image = test["image"].numpy()
    assert image.min() >= -1.0 and image.max() <= 1.0
    with pytest.raises(ValueError, match="no finite train split"):
        datasets.train_once("lines32")
    assert datasets.get_info("lines32").has_lines_metric
    assert not datasets.get_info("mnist32").has_lines_metric


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
