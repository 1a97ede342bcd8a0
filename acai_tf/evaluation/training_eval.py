"""The evaluations of every training report: lines metrics, latent accuracy, image grids.

Which evaluations apply is decided by `suite.applicable_parts` from the dataset: the lines
benchmark on lines32, the latent classifier's test accuracy on labelled datasets, image grids
always. Each runs its protocol as `protocols` encodes it.

The fixed inputs (test images, interpolation endpoints, random latents) are drawn once per run
from the run's seed, so successive reports show the same images and are comparable.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from acai_tf import datasets
from acai_tf.config import ExperimentConfig
from acai_tf.evaluation import protocols, suite
from acai_tf.evaluation.runner import ModelRunner
from acai_tf.lines.metric import NUM_INTERPOLATIONS, STEPS


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

    lines_pairs: int = NUM_INTERPOLATIONS
    lines_steps: int = STEPS
    accuracy_examples: int | None = None
    grid_rows: int = 16
    pairs_per_row: int = 4
    grid_steps: int = 16
    samples_side: int = 16
    batch: int = 64


class TrainingEvaluations:
    """Runs the report evaluations of one run on its model (eagerly, outside fit())."""

    def __init__(self, model, config: ExperimentConfig, settings: EvalSettings = EvalSettings()):
        self.settings = settings
        train = config.train
        self.info = datasets.get_info(train.dataset, data_dir=train.data_dir,
                                      image_size=config.model.image_size)
        self.data_dir = train.data_dir
        parts = suite.applicable_parts(self.info)
        self.with_lines, self.with_accuracy = "lines" in parts, "classifier" in parts
        self.runner = ModelRunner(model)
        # The grids' pool: reconstructions first, then the two interpolation endpoint sets (the
        # reference's layout); the lines benchmark reads its pairs from the start of it too.
        needed = settings.grid_rows * (settings.pairs_per_row + 2)
        if self.with_lines:
            needed = max(needed, 2 * settings.lines_pairs)
        self.pool = protocols.wrapped(
            protocols.first_test_images(self.info, train.data_dir, train.seed, needed), needed)
        rng = np.random.default_rng(train.seed)
        self.sample_latents = rng.standard_normal(
            (settings.samples_side**2,) + tuple(config.model.latent_shape)).astype(np.float32)

    def scalars(self) -> dict[str, float]:
        """Evaluation scalars: eval/mean_distance, eval/mean_smoothness, eval/latent_accuracy."""
        results = {}
        if self.with_lines:
            metrics = protocols.lines_metrics(self.lines_interpolations())
            results.update({f"eval/{key}": float(value) for key, value in metrics.items()})
        if self.with_accuracy:
            results["eval/latent_accuracy"] = self.latent_accuracy()
        return results

    def lines_interpolations(self) -> np.ndarray:
        """Decoded interpolations [lines_pairs, lines_steps, 32, 32, 1] of the benchmark."""
        s = self.settings
        return protocols.lines_interpolations(self.runner, self.pool, s.lines_pairs,
                                              s.lines_steps, s.batch)

    def latent_accuracy(self) -> float:
        """Test accuracy in % of the in-training latent classifier."""
        test = datasets.test_set(self.info.name, data_dir=self.data_dir,
                                 image_size=self.info.image_size)
        if self.settings.accuracy_examples is not None:
            test = test.take(self.settings.accuracy_examples)
        return protocols.classifier_accuracy(self.runner.encode(
            test, max(self.settings.batch, 256), with_predictions=True))

    def grids(self) -> dict[str, np.ndarray]:
        """Image grids {name: [H, W, C] in about [-1, 1]}: reconstruction, interpolation,
        slerp and samples."""
        s = self.settings
        return protocols.report_grids(self.runner, self.pool, self.sample_latents,
                                      rows=s.grid_rows, pairs_per_row=s.pairs_per_row,
                                      steps=s.grid_steps, batch=s.batch)
