"""The paper's lines32 interpolation metric: mean distance and mean smoothness.

An interpolation is a sequence of decoded images between two line images (endpoints included).
Every image is matched to the closest of 10,000 reference lines at angles
linspace(0, 2*pi - 2*pi/10000, 10000) under the cosine distance 1 - u.v / (|u| |v|), computed on
the raw [-1, 1] pixel values (rescaling to [0, 1] would change the distances about tenfold).

- Mean distance: the mean, over all images, of the distance to the closest reference line. Low
  means every intermediate image looks like a real line.
- Smoothness of one interpolation, from the matched angles theta_1..theta_S: unwrap them (jumps
  larger than pi are removed), take the steps d_i = |theta_{i+1} - theta_i| and the total change
  D = |theta_S - theta_1|, and score max_i(d_i) / D - 1 / (S - 1). 0 is a uniform sweep; an
  abrupt jump scores 1 - 1/(S - 1). The score is NaN when D < 1e-4 (no change to measure).
- Mean smoothness: the sum of the non-NaN scores divided by the number of interpolations (so an
  undefined score counts as 0), or NaN when every score is NaN.

Like the paper's evaluation, the smoothness does not penalise going the long way round the circle:
after unwrapping, D is the length of the path actually taken. Beyond the paper, the long-way
fraction counts those: the interpolations whose net turn D exceeds the shorter arc between their
two endpoint angles by more than 1e-2 rad (so near-opposite endpoints, where both arcs are about
pi, are not counted as long).

The protocol (`acai_tf.evaluation.protocols.lines_metrics`): 256 interpolations of 16 steps
between the codes of the first 256 and the next 256 test lines, decoded without clipping.
`acai_tf.lines.reference` builds the same layout from known curves, for tests and demos.

Pure numpy (no TensorFlow). The reference bank is built on first use and cached for the process.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from acai_tf.lines import render

BANK_SIZE = 10_000
NUM_INTERPOLATIONS = 256
STEPS = 16
# Far above the bank's resolution (2*pi/10000 rad per matched angle).
_LONG_WAY_TOLERANCE = 1e-2

_IMAGE_SHAPE = (render.IMAGE_SIZE, render.IMAGE_SIZE, 1)
_NUM_PIXELS = render.IMAGE_SIZE * render.IMAGE_SIZE
_MIN_TOTAL_ANGLE = 1e-4
# Neighbouring reference angles searched together; their ink falls in a thin wedge of ~50 pixels.
_BANK_BLOCK = 100
# Distances closer than this are ties, resolved in favour of the lowest angle. Mirror-symmetric
# inputs produce exact mathematical ties whose float64 rounding would otherwise decide the match,
# so the result would depend on the summation order of the BLAS in use.
_TIE_TOLERANCE = 1e-12
# Bounds the float64 working copy of the queries (4096 images = 32 MB).
_QUERY_CHUNK = 4096


@dataclasses.dataclass(frozen=True)
class _BankBlock:
    """A run of consecutive reference lines and the only pixels where any of them has ink.

    Attributes:
        start: index of the first line of the block in the bank.
        pixels: int64 [P], flat pixel indices (row * 32 + col) inked by some line of the block.
        ink: float64 [P, B], line image + 1 on those pixels (0 elsewhere, so it is omitted).
        norms: float64 [B], L2 norm of each full line image in [-1, 1].
    """

    start: int
    pixels: np.ndarray
    ink: np.ndarray
    norms: np.ndarray


@dataclasses.dataclass(frozen=True)
class _ReferenceBank:
    """The reference lines: angles float64 [BANK_SIZE] and their images split into blocks."""

    angles: np.ndarray
    blocks: tuple[_BankBlock, ...]


@functools.lru_cache(maxsize=1)
def _reference_bank() -> _ReferenceBank:
    """Renders the reference lines (float64, as the metric is defined) once per process."""
    angles = np.linspace(0, 2 * np.pi - 2 * np.pi / BANK_SIZE, BANK_SIZE)
    images = render.render_lines(angles, dtype=np.float64).reshape(BANK_SIZE, _NUM_PIXELS)
    norms = np.linalg.norm(images, axis=1)
    ink = images + 1.0
    blocks = []
    for start in range(0, BANK_SIZE, _BANK_BLOCK):
        block_ink = ink[start:start + _BANK_BLOCK]
        pixels = np.flatnonzero(block_ink.any(axis=0))
        blocks.append(_BankBlock(start=start, pixels=pixels,
                                 ink=np.ascontiguousarray(block_ink[:, pixels].T),
                                 norms=norms[start:start + _BANK_BLOCK]))
    return _ReferenceBank(angles=angles, blocks=tuple(blocks))


def warm_up() -> None:
    """Builds the cached reference bank now (a fraction of a second), e.g. before timing."""
    _reference_bank()


def _closest_chunk(flat: np.ndarray, bank: _ReferenceBank) -> tuple[np.ndarray, np.ndarray]:
    """Closest reference line for each row of flat, float64 [M, 1024] finite and nonzero."""
    # Reference line v is -1 everywhere except on its ink s = v + 1, so for a query u,
    # u.v = u.s - sum(u): only the block's few inked pixels need a product, all in float64.
    pixels_major = np.ascontiguousarray(flat.T)                          # [1024, M]
    background = flat.sum(axis=1)[:, None]
    norms = np.linalg.norm(flat, axis=1)
    # Scores are cosines scaled by |u|, so the tie tolerance scales too.
    tolerance = _TIE_TOLERANCE * norms
    count = flat.shape[0]
    rows = np.arange(count)
    best_top = np.full(count, -np.inf)
    chosen = np.zeros(count)
    best_index = np.zeros(count, np.int64)
    for block in bank.blocks:
        scores = pixels_major[block.pixels].T @ block.ink                # [M, B]
        scores -= background
        scores /= block.norms
        top = scores.max(axis=1)
        local = np.argmax(scores >= (top - tolerance)[:, None], axis=1)
        # A later (higher) angle must beat the best so far by more than the tolerance.
        better = top > best_top + tolerance
        best_top[better] = top[better]
        chosen[better] = scores[rows[better], local[better]]
        best_index[better] = block.start + local[better]
    # Rounding can push an exact match a hair below 0.
    distances = np.clip(1.0 - chosen / norms, 0.0, 2.0)
    return distances, bank.angles[best_index]


def closest_lines(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Matches images to the closest of the 10,000 reference lines (cosine distance).

    Args:
        images: real array [..., 32, 32, 1], raw model outputs (nominally in [-1, 1]; not
            clipped or rescaled here).

    Returns:
        (distances, angles), float64 arrays of the leading shape [...]: the cosine distance to
        the closest reference line, in [0, 2], and that line's angle in [0, 2*pi). Both are NaN
        for an image that has non-finite values or is all zeros (no defined direction).

    Raises:
        ValueError: images is not [..., 32, 32, 1].
    """
    images = np.asarray(images)
    if images.ndim < 3 or images.shape[-3:] != _IMAGE_SHAPE:
        raise ValueError(f"images must have shape [..., 32, 32, 1], got {images.shape}")
    _check_real(images, "images")
    leading = images.shape[:-3]
    flat = images.reshape(-1, _NUM_PIXELS).astype(np.float64)
    valid = np.isfinite(flat).all(axis=1)
    valid[valid] = np.any(flat[valid] != 0, axis=1)

    distances = np.full(flat.shape[0], np.nan)
    angles = np.full(flat.shape[0], np.nan)
    valid_rows = np.flatnonzero(valid)
    bank = _reference_bank()
    for start in range(0, valid_rows.size, _QUERY_CHUNK):
        chunk_rows = valid_rows[start:start + _QUERY_CHUNK]
        distances[chunk_rows], angles[chunk_rows] = _closest_chunk(flat[chunk_rows], bank)
    return distances.reshape(leading), angles.reshape(leading)


def smoothness_scores(angles: np.ndarray) -> np.ndarray:
    """Smoothness score of each interpolation from its matched angles (see the module docstring).

    Args:
        angles: float array [N, S], S >= 2, the matched angle of every step in radians.

    Returns:
        float64 [N]: max_i |step_i| / |total| - 1 / (S - 1) after unwrapping; >= 0 for finite
        input, 0 for a uniform monotone sweep; NaN where the total change is below 1e-4 rad or
        an angle is NaN.
    """
    angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim != 2 or angles.shape[1] < 2:
        raise ValueError(f"angles must have shape [N, steps] with steps >= 2, got "
                         f"{angles.shape}")
    unwrapped = np.unwrap(angles, axis=1)
    steps = np.abs(np.diff(unwrapped, axis=1))
    total = np.abs(unwrapped[:, :1] - unwrapped[:, -1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.max(steps / total, axis=1) - 1.0 / (angles.shape[1] - 1)
    scores[total[:, 0] < _MIN_TOTAL_ANGLE] = np.nan
    return scores


def long_way_flags(angles: np.ndarray) -> np.ndarray:
    """Which interpolations turn the long way round (see the module docstring).

    Args:
        angles: float array [N, S], S >= 2, the matched angle of every step in radians.

    Returns:
        bool [N]: |unwrapped theta_S - theta_1| > shorter arc(theta_1, theta_S) + 1e-2 rad;
        False where an angle is NaN.
    """
    angles = np.asarray(angles, dtype=np.float64)
    unwrapped = np.unwrap(angles, axis=1)
    turned = np.abs(unwrapped[:, -1] - unwrapped[:, 0])
    apart = np.mod(angles[:, -1] - angles[:, 0], 2 * np.pi)
    shorter = np.minimum(apart, 2 * np.pi - apart)
    with np.errstate(invalid="ignore"):
        return turned > shorter + _LONG_WAY_TOLERANCE


def line_metrics(interpolations: np.ndarray) -> dict[str, float]:
    """The paper's lines32 interpolation metrics.

    Args:
        interpolations: real array [N, S, 32, 32, 1], N >= 1 interpolations of S >= 2 decoded
            images each, endpoints included, raw decoder outputs (nominally in [-1, 1]). The
            training protocol uses N = 256, S = 16.

    Returns:
        {"mean_distance": mean cosine distance of all N * S images to their closest reference
        line (NaN if any image is non-finite or all zeros), "mean_smoothness": sum of the
        defined smoothness scores / N, or NaN if no score is defined, "long_way_fraction": the
        fraction in [0, 1] of the N interpolations that turn the long way round}.

    Raises:
        ValueError: interpolations is not [N >= 1, S >= 2, 32, 32, 1] or not real-valued.
    """
    interpolations = np.asarray(interpolations)
    if (interpolations.ndim != 5 or interpolations.shape[2:] != _IMAGE_SHAPE
            or interpolations.shape[0] < 1 or interpolations.shape[1] < 2):
        raise ValueError("interpolations must have shape [N >= 1, steps >= 2, 32, 32, 1], got "
                         f"{interpolations.shape}")
    distances, angles = closest_lines(interpolations)
    scores = smoothness_scores(angles)
    defined = ~np.isnan(scores)
    mean_smoothness = scores[defined].sum() / scores.size if defined.any() else math.nan
    return {"mean_distance": float(np.mean(distances)),
            "mean_smoothness": float(mean_smoothness),
            "long_way_fraction": float(np.mean(long_way_flags(angles)))}


def _check_real(array: np.ndarray, name: str) -> None:
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be real-valued, got dtype {array.dtype}")
