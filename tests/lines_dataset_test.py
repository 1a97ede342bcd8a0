"""Tests for the lines32 tf.data pipelines: shapes, determinism, freshness and labels."""

import math
import sys

import numpy as np
import pytest

from acai_tf import lines
from acai_tf.lines import dataset as lines32


def _take(dataset, count: int) -> list[dict[str, np.ndarray]]:
    return list(dataset.take(count).as_numpy_iterator())


def _angle_of(image: np.ndarray) -> float:
    """Angle of a rendered line from its ink-weighted centroid relative to the centre."""
    ink = (image[..., 0] + 1) / 2
    rows, cols = np.mgrid[0:32, 0:32]
    dy = -((ink * rows).sum() / ink.sum() - 16)
    dx = (ink * cols).sum() / ink.sum() - 16
    return math.atan2(dy, dx) % (2 * math.pi)


def test_train_stream_shapes_dtypes_and_range():
    dataset = lines32.train_stream(batch_size=64, seed=0)
    spec = dataset.element_spec
    assert spec["image"].shape.as_list() == [64, 32, 32, 1]
    assert spec["label"].shape.as_list() == [64]
    (batch,) = _take(dataset, 1)
    assert batch["image"].dtype == np.float32 and batch["label"].dtype == np.int64
    assert batch["image"].min() == -1.0 and batch["image"].max() == 1.0
    assert batch["label"].min() >= 0 and batch["label"].max() < lines.NUM_CLASSES


def test_batches_that_do_not_divide_the_chunk_keep_the_image_sequence():
    batch_size = 1000  # 4096 = 4 * 1000 + 96: batch 5 straddles two chunks
    batches = _take(lines32.train_stream(batch_size=batch_size, seed=5), 6)
    assert all(b["image"].shape == (batch_size, 32, 32, 1) for b in batches)
    reference = _take(lines32.train_stream(batch_size=64, seed=5), 6000 // 64 + 1)
    np.testing.assert_array_equal(np.concatenate([b["image"] for b in batches]),
                                  np.concatenate([b["image"] for b in reference])[:6000])


def test_train_stream_is_deterministic_per_seed():
    first = _take(lines32.train_stream(batch_size=32, seed=11), 3)
    again = _take(lines32.train_stream(batch_size=32, seed=11), 3)
    other = _take(lines32.train_stream(batch_size=32, seed=12), 3)
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a["image"], b["image"])
        np.testing.assert_array_equal(a["label"], b["label"])
        assert not np.array_equal(a["image"], c["image"])


def test_train_stream_draws_fresh_lines_beyond_one_chunk():
    batches = _take(lines32.train_stream(batch_size=512, seed=1), 2 * lines32.CHUNK_SIZE // 512)
    images = np.concatenate([b["image"] for b in batches]).reshape(-1, 32 * 32)
    assert not np.array_equal(batches[0]["image"], batches[1]["image"])
    # The second chunk is not a repeat of the first.
    assert not np.array_equal(images[:lines32.CHUNK_SIZE], images[lines32.CHUNK_SIZE:])
    assert len(np.unique(images, axis=0)) > 0.99 * len(images)


def test_train_labels_match_the_drawn_lines():
    (batch,) = _take(lines32.train_stream(batch_size=256, seed=2), 1)
    angles = np.array([_angle_of(image) for image in batch["image"]])
    # The centroid angle is within a few degrees of the true one; skip lines near bin edges.
    position = angles / (2 * math.pi) * 10
    clear = np.abs(position - np.round(position)) > 0.15
    assert clear.sum() > 150
    np.testing.assert_array_equal(batch["label"][clear], lines.angle_labels(angles[clear]))
    counts = np.bincount(batch["label"], minlength=10)
    assert counts.shape == (10,) and counts.min() > 5


def test_test_set_is_fixed_unbatched_and_distinct_from_training():
    dataset = lines32.test_set(seed=0)
    assert int(dataset.cardinality()) == lines32.TEST_SIZE == 5000
    assert dataset.element_spec["image"].shape.as_list() == [32, 32, 1]
    assert dataset.element_spec["label"].shape.as_list() == []
    (full,) = list(dataset.batch(5000).as_numpy_iterator())
    assert full["image"].dtype == np.float32 and full["label"].dtype == np.int64
    assert full["image"].min() == -1.0 and full["image"].max() == 1.0
    (again,) = list(lines32.test_set(seed=0).batch(5000).as_numpy_iterator())
    np.testing.assert_array_equal(full["image"], again["image"])
    np.testing.assert_array_equal(full["label"], again["label"])
    (other,) = list(lines32.test_set(seed=1, size=100).batch(100).as_numpy_iterator())
    assert other["image"].shape == (100, 32, 32, 1)
    assert not np.array_equal(other["image"], full["image"][:100])
    (train,) = _take(lines32.train_stream(batch_size=100, seed=0), 1)
    assert not np.array_equal(train["image"], full["image"][:100])


@pytest.mark.parametrize("kwargs", [dict(batch_size=0, seed=0), dict(batch_size=8, seed=-1),
                                    dict(batch_size=2.5, seed=0)])
def test_train_stream_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="must be an integer"):
        lines32.train_stream(**kwargs)


def test_test_set_rejects_bad_size():
    with pytest.raises(ValueError, match="size must be an integer >= 1"):
        lines32.test_set(seed=0, size=0)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
