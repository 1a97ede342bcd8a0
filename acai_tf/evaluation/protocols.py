"""The paper's evaluation protocols, each encoded once: which images, which pairs, which score.

Used by the training reports (`training_eval`) and by the checkpoint evaluation
(`checkpoint_eval`), on a `runner.ModelRunner`:

- lines (spec 2.2): interpolations between the codes of test lines A = the first `pairs` and
  B = the next `pairs`, `steps` images each, decoded raw and scored by `acai_tf.lines.metric`;
- classifier: the in-training latent classifier's test accuracy (the paper's Table 2), and a
  post-hoc softmax probe fit on frozen train latents;
- clustering (the paper's Table 3, spec 3.10): K-means on whitened train latents, matched
  accuracy on the test latents;
- pictures: the report grids and the interpolation figure, from the first test images.

Accuracies are in %. Test images are float32 [N, S, S, C] in [-1, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from acai_tf import datasets
from acai_tf.outputs import images
from acai_tf.datasets import DatasetInfo
from acai_tf.evaluation import representation
from acai_tf.evaluation.runner import ModelRunner


def first_test_images(info: DatasetInfo, data_dir: str | None, seed: int,
                      count: int) -> np.ndarray:
    """The first `count` test images [<= count, S, S, C] in the test set's fixed order (lines32
    draws its test lines with `seed`); fewer when the test set is smaller."""
    test = datasets.test_set(info.name, data_dir=data_dir, seed=seed,
                             image_size=info.image_size)
    return np.stack([example["image"] for example in test.take(count).as_numpy_iterator()])


def wrapped(test_images: np.ndarray, count: int) -> np.ndarray:
    """test_images [N, S, S, C] repeated from the start up to `count` images (a small "folder:"
    test set), so that every grid row and figure row has its images."""
    return np.resize(test_images, (count,) + test_images.shape[1:])


def lines_interpolations(runner: ModelRunner, test_images: np.ndarray, pairs: int, steps: int,
                         pairs_per_call: int) -> np.ndarray:
    """The lines protocol's decoded interpolations [pairs, steps, 32, 32, 1]: from test line i
    to test line pairs + i; test_images holds at least 2 * pairs lines."""
    return runner.interpolate(test_images[:pairs], test_images[pairs:2 * pairs], steps,
                              pairs_per_call)


def lines_metrics(interpolations: np.ndarray) -> dict[str, float]:
    """{"mean_distance", "mean_smoothness"} of the lines protocol's interpolations."""
    # Imported here so that the lines metric is loaded only where it applies.
    from acai_tf.lines import metric  # pylint: disable=import-outside-toplevel

    return metric.line_metrics(interpolations)


def classifier_accuracy(encoded: dict[str, np.ndarray]) -> float:
    """Test accuracy (%) of the in-training latent classifier, from `ModelRunner.encode` output
    with predictions."""
    return 100.0 * float(np.mean(encoded["predictions"] == encoded["labels"]))


def probe_accuracy(train: dict[str, np.ndarray], test: dict[str, np.ndarray],
                   nclass: int) -> float:
    """Test accuracy (%) of a softmax probe fit on the train latents (see `representation`)."""
    return 100.0 * representation.linear_probe_accuracy(
        train["latents"], train["labels"], test["latents"], test["labels"], nclass)


def clustering(train: dict[str, np.ndarray], test: dict[str, np.ndarray], nclass: int, *,
               n_init: int, seed: int) -> dict[str, Any]:
    """{"accuracy" (%), "n_init", "train_examples"}: K-means on the whitened train latents."""
    accuracy = representation.kmeans_accuracy(train["latents"], test["latents"], test["labels"],
                                              nclass, n_init=n_init, seed=seed)
    return {"accuracy": 100.0 * accuracy, "n_init": n_init,
            "train_examples": len(train["labels"])}


def report_grids(runner: ModelRunner, pool: np.ndarray, sample_latents: np.ndarray, *,
                 rows: int, pairs_per_row: int, steps: int, batch: int
                 ) -> dict[str, np.ndarray]:
    """The training report's grids {name: [H, W, C] in about [-1, 1]}.

    pool holds the first rows * (pairs_per_row + 2) test images: the reconstruction grid's
    inputs first, then the interpolation endpoints A and B (the reference's layout).
    "interpolation" and "slerp" interpolate linearly and spherically between the same pairs;
    "samples" decodes sample_latents (a square number of N(0, 1) latents).
    """
    count = rows * pairs_per_row
    inputs = pool[:count]
    ends_a, ends_b = pool[count:count + rows], pool[count + rows:count + 2 * rows]
    return {
        "reconstruction": images.reconstruction_grid(inputs, runner.reconstruct(inputs, batch),
                                                     pairs_per_row),
        "interpolation": images.tile(runner.interpolate(ends_a, ends_b, steps, batch)),
        "slerp": images.tile(runner.interpolate(ends_a, ends_b, steps, batch, "spherical")),
        "samples": images.square_grid(runner.decode(sample_latents, batch)),
    }


def interpolation_figure(runner: ModelRunner, test_images: np.ndarray, *, rows: int,
                         offset: int, steps: int, pairs_per_call: int) -> np.ndarray:
    """interpolation.png, uint8: rows of [input A | interpolation | input B] with A = test image
    i and B = test image offset + i (lines32: offset = the benchmark's pairs, so the rows are
    its first pairs); test_images wraps around to offset + rows images if need be."""
    test_images = wrapped(test_images, offset + rows)
    ends_a, ends_b = test_images[:rows], test_images[offset:offset + rows]
    return images.interpolation_figure(
        ends_a, ends_b, runner.interpolate(ends_a, ends_b, steps, pairs_per_call))
