"""The evaluations run at every training report: lines metrics, latent accuracy, image grids.

Which evaluations apply is decided from the config: the lines benchmark on datasets made of
`acai_tf.lines` renderings, the latent classifier's test accuracy on labelled datasets (nclass
> 1), image grids always. Models never know which dataset they are trained on.

The fixed inputs (test images, interpolation endpoints, random latents) are drawn once per run
from the run's seed, so successive reports show the same images and are comparable.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from acai_tf import datasets, image_grids
from acai_tf.config import ExperimentConfig
from acai_tf.lines import metric as interpolation

# Datasets whose images are the lines of `acai_tf.lines`, which the lines metrics understand.
LINE_METRIC_DATASETS = frozenset({"lines32"})


@dataclasses.dataclass(frozen=True)
class EvalSettings:
    """Sizes of the report evaluations; the defaults are the paper's.

    Attributes:
        lines_pairs: interpolations of the lines benchmark (endpoints: the first and the next
            `lines_pairs` test lines).
        lines_steps: images per interpolation, endpoints included.
        accuracy_examples: test examples for the latent accuracy; None is the whole test set.
        grid_rows: rows of the reconstruction and interpolation grids.
        pairs_per_row: (input, reconstruction) pairs per row of the reconstruction grid.
        grid_steps: interpolants per row of the interpolation and slerp grids.
        samples_side: the samples grid decodes samples_side**2 random N(0, 1) latents.
        batch: images (or interpolation pairs) per model call.
    """

    lines_pairs: int = interpolation.NUM_INTERPOLATIONS
    lines_steps: int = interpolation.STEPS
    accuracy_examples: int | None = None
    grid_rows: int = 16
    pairs_per_row: int = 4
    grid_steps: int = 16
    samples_side: int = 16
    batch: int = 64


class ReportEvaluator:
    """Runs the report evaluations of one run on its model (eagerly, outside fit())."""

    def __init__(self, model, config: ExperimentConfig, settings: EvalSettings = EvalSettings()):
        self.model = model
        self.settings = settings
        train = config.train
        self.dataset, self.data_dir = train.dataset, train.data_dir
        self.image_size = config.model.image_size
        self.with_lines = train.dataset in LINE_METRIC_DATASETS
        self.with_accuracy = config.model.nclass > 1
        # Pool layout as in the reference: reconstructions first, then the two interpolation
        # endpoint sets.
        self.num_reconstructions = settings.grid_rows * settings.pairs_per_row
        needed = self.num_reconstructions + 2 * settings.grid_rows
        if self.with_lines:
            needed = max(needed, 2 * settings.lines_pairs)
        self.pool = _first_images(train.dataset, train.data_dir, train.seed, needed,
                                  self.image_size)
        rng = np.random.default_rng(train.seed)
        self.sample_latents = rng.standard_normal(
            (settings.samples_side**2,) + tuple(config.model.latent_shape)).astype(np.float32)
        self._interpolate = tf.function(model.interpolate, reduce_retracing=True)
        self._decode = tf.function(model.decode, reduce_retracing=True)
        self._reconstruct = tf.function(model.reconstruct, reduce_retracing=True)
        self._predict = tf.function(lambda x: tf.argmax(model.classify(x), axis=-1),
                                    reduce_retracing=True)

    def scalars(self) -> dict[str, float]:
        """Evaluation scalars: eval/mean_distance, eval/mean_smoothness, eval/latent_accuracy."""
        results = {}
        if self.with_lines:
            metrics = interpolation.line_metrics(self.lines_interpolations())
            results.update({f"eval/{key}": float(value) for key, value in metrics.items()})
        if self.with_accuracy:
            results["eval/latent_accuracy"] = self.latent_accuracy()
        return results

    def lines_interpolations(self) -> np.ndarray:
        """Decoded interpolations [lines_pairs, lines_steps, 32, 32, 1] of the benchmark."""
        pairs = self.settings.lines_pairs
        return self._interpolations(self.pool[:pairs], self.pool[pairs:2 * pairs],
                                    self.settings.lines_steps, "linear")

    def latent_accuracy(self) -> float:
        """Test accuracy in % of the in-training latent classifier."""
        test = datasets.test_set(self.dataset, data_dir=self.data_dir,
                                 image_size=self.image_size)
        if self.settings.accuracy_examples is not None:
            test = test.take(self.settings.accuracy_examples)
        correct = total = 0
        for batch in test.batch(max(self.settings.batch, 256)).prefetch(2):
            predictions = self._predict(batch["image"]).numpy()
            correct += int(np.sum(predictions == batch["label"].numpy()))
            total += len(predictions)
        return 100.0 * correct / max(total, 1)

    def grids(self) -> dict[str, np.ndarray]:
        """Image grids {name: [H, W, C] in about [-1, 1]}: reconstruction, interpolation,
        slerp and samples."""
        s, count = self.settings, self.num_reconstructions
        inputs = self.pool[:count]
        reconstructions = self._batched(self._reconstruct, inputs)
        ends_a = self.pool[count:count + s.grid_rows]
        ends_b = self.pool[count + s.grid_rows:count + 2 * s.grid_rows]
        return {
            "reconstruction": image_grids.reconstruction_grid(inputs, reconstructions,
                                                              s.pairs_per_row),
            "interpolation": image_grids.tile(
                self._interpolations(ends_a, ends_b, s.grid_steps, "linear")),
            "slerp": image_grids.tile(
                self._interpolations(ends_a, ends_b, s.grid_steps, "spherical")),
            "samples": image_grids.square_grid(self._batched(self._decode, self.sample_latents)),
        }

    def _interpolations(self, ends_a, ends_b, steps: int, method: str) -> np.ndarray:
        chunks = [self._interpolate(tf.constant(ends_a[i:i + self.settings.batch]),
                                    tf.constant(ends_b[i:i + self.settings.batch]),
                                    steps=steps, method=method).numpy()
                  for i in range(0, len(ends_a), self.settings.batch)]
        return np.concatenate(chunks)

    def _batched(self, function, inputs: np.ndarray) -> np.ndarray:
        size = self.settings.batch
        return np.concatenate([function(tf.constant(inputs[i:i + size])).numpy()
                               for i in range(0, len(inputs), size)])


def _first_images(dataset: str, data_dir: str | None, seed: int, count: int,
                  image_size: int) -> np.ndarray:
    """The first `count` test images [count, S, S, C] (wrapping around a smaller test set)."""
    test = datasets.test_set(dataset, data_dir=data_dir, seed=seed, image_size=image_size)
    images = np.stack([example["image"] for example in test.take(count).as_numpy_iterator()])
    return np.resize(images, (count,) + images.shape[1:])
