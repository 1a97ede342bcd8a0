"""A shipped pretrained model: where it lives, the pairs it is scored on, and its lines scores.

    pretrained/lines32_acai/        the repository's (benchmarks/ship_pretrained.py writes it)
      acai/1/                       the float32 SavedModel of encoder and decoder, as
                                    `acai_tf.serving.export_lib` exports it (TF Serving layout)
      models.config                 for tensorflow_model_server --model_config_file
      metrics.json                  its lines scores when shipped, the checkpoint's step and
                                    kimg, the config, the commits that trained it, the machine
      README.md                     the same in words

The shipping script and `acai-demo --pretrained` score a model as the training reports do
(`acai_tf.evaluation.training_eval`): 256 interpolations of 16 steps from the first 256 to the
next 256 test lines of the run's seed, decoded raw, next to pixel blending of the same pairs.
A SavedModel answers through its `interpolate` signature, so no Keras model is rebuilt.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np

from acai_tf import datasets
from acai_tf.config import ConfigError, ExperimentConfig
from acai_tf.errors import UserError
from acai_tf.evaluation import protocols
from acai_tf.lines import metric

REPOSITORY_FOLDER = os.path.join("pretrained", "lines32_acai")
METRICS_FILENAME = "metrics.json"
README_FILENAME = "README.md"
MODEL_NAME = "acai"
VERSION = 1
# Pairs per `interpolate` request: 64 x 16 decoded images, as the training reports batch them.
PAIRS_PER_CALL = 64
SHIP_COMMAND = "python benchmarks/ship_pretrained.py --workdir=RUN --out={folder}"


class PretrainedError(UserError, RuntimeError):
    """A shipped model is missing or unreadable; the message is one line."""


@dataclasses.dataclass(frozen=True)
class Shipped:
    """A shipped model as read from its folder.

    Attributes:
        folder: the folder (e.g. pretrained/lines32_acai).
        saved_model: its SavedModel directory (folder/acai/1).
        config: the ExperimentConfig it was trained with (the SavedModel's assets/config.json).
        metrics: metrics.json as written when it was shipped.
    """

    folder: str
    saved_model: str
    config: ExperimentConfig
    metrics: dict[str, Any]


def default_folder() -> str:
    """The repository's shipped model: pretrained/lines32_acai beside the acai_tf package."""
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(package_parent, REPOSITORY_FOLDER)


def saved_model_dir(folder: str) -> str:
    """The SavedModel inside a shipped model's folder."""
    return os.path.join(folder, MODEL_NAME, str(VERSION))


def load(folder: str) -> Shipped:
    """Reads a shipped model's folder (not the model itself; see `interpolations`).

    Raises:
        PretrainedError: the folder, its SavedModel or its metrics.json is missing or invalid;
            the message says how to make one.
    """
    saved_model = saved_model_dir(folder)
    metrics_path = os.path.join(folder, METRICS_FILENAME)
    how = (f"make one with {SHIP_COMMAND.format(folder=folder)} (RUN: a trained lines32 ACAI "
           "workdir)")
    if not os.path.isdir(folder):
        raise PretrainedError(f"no shipped model in {folder}: {how}")
    for path in (os.path.join(saved_model, "saved_model.pb"), metrics_path):
        if not os.path.isfile(path):
            raise PretrainedError(f"{folder} is not a shipped model ({path} is missing): {how}")
    try:
        with open(metrics_path, encoding="utf-8") as f:
            metrics = json.load(f)
        with open(os.path.join(saved_model, "assets", "config.json"), encoding="utf-8") as f:
            config = ExperimentConfig.from_json(f.read())
    except (OSError, ValueError, ConfigError) as error:
        raise PretrainedError(f"cannot read the shipped model in {folder}: {error}") from None
    return Shipped(folder=folder, saved_model=saved_model, config=config, metrics=metrics)


def benchmark_pairs(config: ExperimentConfig, pairs: int = metric.NUM_INTERPOLATIONS
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The endpoints of the lines benchmark for a run, as its training reports draw them.

    Args:
        config: the run's config (its dataset and seed choose the test images).
        pairs: number of interpolations.

    Returns:
        (ends_a, ends_b): float32 [pairs, S, S, C] in [-1, 1], test images 0..pairs - 1 and
        pairs..2 * pairs - 1 (the test set repeated if it is smaller).
    """
    train = config.train
    info = datasets.get_info(train.dataset, data_dir=train.data_dir,
                             image_size=config.model.image_size)
    pool = protocols.wrapped(
        protocols.first_test_images(info, train.data_dir, train.seed, 2 * pairs), 2 * pairs)
    return pool[:pairs], pool[pairs:]


def pixel_blends(images_a: np.ndarray, images_b: np.ndarray, steps: int) -> np.ndarray:
    """Cross-fades [N, steps, S, S, C] from images_a [N, S, S, C] to images_b, endpoints
    included (what an autoencoder that does not interpolate produces)."""
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape(1, steps, 1, 1, 1)
    return (1.0 - weights) * images_a[:, None] + weights * images_b[:, None]


def interpolations(saved_model: str, ends_a: np.ndarray, ends_b: np.ndarray,
                   steps: int = metric.STEPS) -> np.ndarray:
    """Decoded linear latent interpolations from a SavedModel's `interpolate` signature.

    Args:
        saved_model: a SavedModel directory with the servable's signatures.
        ends_a, ends_b: float32 [N, S, S, C] endpoint images in [-1, 1].
        steps: images per interpolation, endpoints included (2..256).

    Returns:
        float32 [N, steps, S, S, C], raw decoder outputs (nominally in [-1, 1]).
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    interpolate = tf.saved_model.load(saved_model).signatures["interpolate"]
    return np.concatenate([
        interpolate(images_a=tf.constant(ends_a[i:i + PAIRS_PER_CALL]),
                    images_b=tf.constant(ends_b[i:i + PAIRS_PER_CALL]),
                    steps=tf.constant(steps, tf.int32),
                    method=tf.constant("linear"))["images"].numpy()
        for i in range(0, len(ends_a), PAIRS_PER_CALL)])


def lines_scores(ends_a: np.ndarray, ends_b: np.ndarray, decoded: np.ndarray
                 ) -> dict[str, dict[str, float]]:
    """The lines metrics of decoded interpolations and of pixel blending between their ends.

    Args:
        ends_a, ends_b: float32 [N, 32, 32, 1] endpoint lines in [-1, 1].
        decoded: [N, S, 32, 32, 1] the model's interpolations between them.

    Returns:
        {"model": metric.line_metrics(decoded), "pixel_blending": the same of the cross-fades}.
    """
    blended = pixel_blends(ends_a, ends_b, decoded.shape[1])
    return {"model": metric.line_metrics(decoded), "pixel_blending": metric.line_metrics(blended)}
