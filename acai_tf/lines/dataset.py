"""tf.data pipelines of the procedural lines32 dataset (images from `acai_tf.lines.render`).

Training draws fresh uniform angles for every example: there is no fixed training set, the stream
never ends, and it is reproducible from its seed. The test set is a fixed sample of lines, the
same for the same seed. Labels are the 10 angular bins of `acai_tf.lines.render.angle_labels`.

Lines are rendered by numpy in chunks of `CHUNK_SIZE` images, which amortises the Python call
per chunk; the chunk is then cut into batches in-graph. Chunk k of a stream is drawn from its
own random state derived from (seed, k), so the sequence of images depends only on the seed (not
on the batch size, the prefetch depth or tf.data threading).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from acai_tf.lines import render

CHUNK_SIZE = 4096
TEST_SIZE = 5000

# Separate random streams for training and test data drawn with the same seed.
_TRAIN_STREAM = 0
_TEST_STREAM = 1


def _check_int_at_least(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _draw(seed: int, spawn_key: tuple[int, ...], count: int) -> tuple[np.ndarray, np.ndarray]:
    """Renders `count` lines at angles drawn from the random stream (seed, spawn_key)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=spawn_key))
    angles = render.uniform_angles(count, rng)
    return render.render_lines(angles), render.angle_labels(angles)


def train_stream(batch_size: int, seed: int) -> tf.data.Dataset:
    """Infinite stream of freshly drawn training lines.

    Args:
        batch_size: examples per batch (>= 1); every batch has exactly this many.
        seed: non-negative integer; the same seed gives the same sequence of images.

    Returns:
        Prefetched dataset of {"image": float32 [batch_size, 32, 32, 1] in [-1, 1],
        "label": int64 [batch_size] in [0, 10)}, with static shapes.
    """
    _check_int_at_least("batch_size", batch_size, minimum=1)
    _check_int_at_least("seed", seed, minimum=0)
    seed = int(seed)

    def render_chunk(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _draw(seed, (_TRAIN_STREAM, int(index)), CHUNK_SIZE)

    def to_example(index: tf.Tensor) -> dict[str, tf.Tensor]:
        # stateful=False is correct: a chunk is a pure function of its index.
        image, label = tf.numpy_function(render_chunk, [index], (tf.float32, tf.int64),
                                         stateful=False, name="render_lines")
        size = render.IMAGE_SIZE
        return {"image": tf.ensure_shape(image, [CHUNK_SIZE, size, size, 1]),
                "label": tf.ensure_shape(label, [CHUNK_SIZE])}

    chunks = tf.data.Dataset.counter().map(to_example, num_parallel_calls=tf.data.AUTOTUNE,
                                           deterministic=True)
    # rebatch carries the remainder of one chunk into the next batch, so no example is lost
    # when batch_size does not divide CHUNK_SIZE.
    return chunks.rebatch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def test_set(seed: int = 0, size: int = TEST_SIZE) -> tf.data.Dataset:
    """A fixed sample of test lines, in a fixed order.

    Args:
        seed: non-negative integer; the same seed gives the same lines. The test lines never
            coincide with the training stream of the same seed (separate random streams).
        size: number of examples (>= 1).

    Returns:
        Finite, unbatched dataset of {"image": float32 [32, 32, 1] in [-1, 1],
        "label": int64 [] in [0, 10)}.
    """
    _check_int_at_least("seed", seed, minimum=0)
    _check_int_at_least("size", size, minimum=1)
    images, labels = _draw(int(seed), (_TEST_STREAM,), int(size))
    return tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})


class Source:
    """The dataset registry's interface (`acai_tf.datasets`) to lines32.

    The lines are drawn on the fly, so there is nothing to prepare and no finite train split;
    the data directory is ignored.
    """

    def check_prepared(self, data_dir: str) -> None:
        del data_dir

    def prepare(self, data_dir: str, manual_dir: str | None = None) -> None:
        del data_dir, manual_dir

    def train_stream(self, batch_size: int, seed: int, data_dir: str) -> tf.data.Dataset:
        del data_dir
        return train_stream(batch_size=batch_size, seed=seed)

    def test_set(self, data_dir: str, seed: int) -> tf.data.Dataset:
        del data_dir
        return test_set(seed=seed)

    def train_once(self, data_dir: str) -> tf.data.Dataset:
        del data_dir
        raise ValueError("dataset 'lines32' is drawn on the fly and has no finite train split; "
                         "use train_stream or test_set")
