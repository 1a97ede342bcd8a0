"""Pictures of the evaluations as 8-bit images: report grids, interpolation figures, PNG files.

Models output [-1, 1] floats; `to_uint8` maps them to bytes as the reference did, and every
layout below returns the dtype it is given (grids) or uint8 (figures). `write_png` takes uint8
only, so that no file depends on which caller converted.

Grids of the training reports, as the reference's image summaries:
- reconstruction: 16 rows x 4 (input, reconstruction) pairs side by side;
- interpolation / slerp: one row per image pair, the interpolants from left to right;
- samples: decoded random latents, 16 x 16.

Figures in the style of the paper's Figures 3 and 6: one row per test pair, the real input A, a
gap, the decoded interpolation from A to B (endpoints included, so they are reconstructions), a
gap, the real input B. Several runs' figures are laid out side by side, each under a label.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from acai_tf.outputs import atomic_write

BACKGROUND = 255  # white gaps, so the black (-1) image backgrounds stand out
ENDPOINT_GAP = 4
BLOCK_GAP = 12
LABEL_HEIGHT = 16


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Maps [-1, 1] values to bytes with round(127.5 + 127.5 x), clipped to [0, 255].

    Args:
        images: float array of any shape; values outside [-1, 1] (and NaN, as 0) are clipped.

    Returns:
        uint8 array of the same shape.
    """
    values = np.nan_to_num(np.asarray(images, np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(np.round(127.5 + 127.5 * values), 0, 255).astype(np.uint8)


def tile(images: np.ndarray) -> np.ndarray:
    """Lays out a grid of images as one image.

    Args:
        images: [rows, cols, H, W, C].

    Returns:
        [rows * H, cols * W, C], the same dtype.
    """
    images = np.asarray(images)
    if images.ndim != 5:
        raise ValueError(f"expected [rows, cols, H, W, C], got shape {images.shape}")
    rows, cols, height, width, channels = images.shape
    return images.transpose(0, 2, 1, 3, 4).reshape(rows * height, cols * width, channels)


def reconstruction_grid(inputs: np.ndarray, reconstructions: np.ndarray,
                        pairs_per_row: int = 4) -> np.ndarray:
    """Inputs beside their reconstructions, `pairs_per_row` pairs per row.

    Args:
        inputs: [N, H, W, C] with N a multiple of pairs_per_row (64 gives 16 rows x 4 pairs).
        reconstructions: [N, H, W, C].
        pairs_per_row: (input, reconstruction) pairs in a row.

    Returns:
        [N / pairs_per_row * H, 2 * pairs_per_row * W, C].
    """
    inputs, reconstructions = np.asarray(inputs), np.asarray(reconstructions)
    if inputs.shape != reconstructions.shape or len(inputs) % pairs_per_row:
        raise ValueError(f"need equal shapes with a multiple of {pairs_per_row} images, got "
                         f"{inputs.shape} and {reconstructions.shape}")
    paired = np.stack([inputs, reconstructions], axis=1)          # [N, 2, H, W, C]
    rows = paired.reshape((-1, 2 * pairs_per_row) + inputs.shape[1:])
    return tile(rows)


def square_grid(images: np.ndarray) -> np.ndarray:
    """Tiles N = k * k images [N, H, W, C] into a k x k grid [k * H, k * W, C]."""
    images = np.asarray(images)
    side = int(round(np.sqrt(len(images))))
    if side * side != len(images):
        raise ValueError(f"need a square number of images, got {len(images)}")
    return tile(images.reshape((side, side) + images.shape[1:]))


def png_name(name: str, kimg: float) -> str:
    """File name of a grid at a report: `<name>_<kimg:08.1f>.png`, e.g. samples_000064.0.png."""
    return f"{name}_{kimg:08.1f}.png"


def interpolation_figure(inputs_a: np.ndarray, inputs_b: np.ndarray,
                         interpolations: np.ndarray) -> np.ndarray:
    """Rows of [input A | interpolation A -> B | input B].

    Args:
        inputs_a, inputs_b: [R, S, S, C] real endpoint images in [-1, 1].
        interpolations: [R, T, S, S, C] decoded interpolations, nominally in [-1, 1].

    Returns:
        uint8 [R * S, (T + 2) * S + 2 * ENDPOINT_GAP, C].
    """
    inputs_a, inputs_b = np.asarray(inputs_a), np.asarray(inputs_b)
    interpolations = np.asarray(interpolations)
    rows, steps = interpolations.shape[:2]
    if (interpolations.ndim != 5 or inputs_a.shape != inputs_b.shape
            or inputs_a.shape != (rows,) + interpolations.shape[2:]):
        raise ValueError(f"need inputs [R, S, S, C] and interpolations [R, T, S, S, C], got "
                         f"{inputs_a.shape}, {inputs_b.shape} and {interpolations.shape}")
    size, channels = interpolations.shape[2], interpolations.shape[4]
    gap = np.full((rows * size, ENDPOINT_GAP, channels), BACKGROUND, np.uint8)
    path = to_uint8(interpolations).transpose(0, 2, 1, 3, 4).reshape(
        rows * size, steps * size, channels)
    column = lambda images: to_uint8(images).reshape(rows * size, size, channels)  # noqa: E731
    return np.concatenate([column(inputs_a), gap, path, gap, column(inputs_b)], axis=1)


def side_by_side(blocks: Sequence[tuple[str, np.ndarray]], per_row: int | None = None
                 ) -> np.ndarray:
    """Lays out labelled figures in a grid, each under its label (PIL's default font).

    Args:
        blocks: (label, uint8 image [H, W, 1 or 3]) pairs, in display order; sizes may differ.
        per_row: blocks per grid row; None puts them all in one row.

    Returns:
        uint8 [height, width, 3] RGB on a white background.
    """
    if not blocks:
        raise ValueError("no figures to lay out")
    labelled = [_with_label(label, _rgb(image)) for label, image in blocks]
    per_row = per_row or len(labelled)
    grid_rows = [labelled[i:i + per_row] for i in range(0, len(labelled), per_row)]
    cell_height = max(image.shape[0] for image in labelled)
    cell_width = max(image.shape[1] for image in labelled)
    height = len(grid_rows) * (cell_height + BLOCK_GAP) - BLOCK_GAP
    width = min(per_row, len(labelled)) * (cell_width + BLOCK_GAP) - BLOCK_GAP
    canvas = np.full((height, width, 3), BACKGROUND, np.uint8)
    for row_index, row in enumerate(grid_rows):
        for col_index, image in enumerate(row):
            top = row_index * (cell_height + BLOCK_GAP)
            left = col_index * (cell_width + BLOCK_GAP)
            canvas[top:top + image.shape[0], left:left + image.shape[1]] = image
    return canvas


def write_png(path: str, image: np.ndarray) -> None:
    """Writes uint8 [H, W, 1 or 3] as a gray or RGB PNG (`to_uint8` converts [-1, 1] floats).

    The file is written under a unique temporary name and renamed, so a reader never sees half
    a PNG (see `acai_tf.outputs.atomic_write`).
    """
    image = _checked_uint8(image)
    with atomic_write.replacing(path, "wb") as f:
        Image.fromarray(image[..., 0] if image.shape[2] == 1 else image).save(f, "PNG")


def read_png(path: str) -> np.ndarray:
    """Reads a PNG as uint8 [H, W, 3]."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _checked_uint8(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (1, 3):
        raise ValueError(f"need uint8 [H, W, 1 or 3], got {image.dtype} {image.shape}")
    return image


def _rgb(image: np.ndarray) -> np.ndarray:
    image = _checked_uint8(image)
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


def _with_label(label: str, image: np.ndarray) -> np.ndarray:
    """image [H, W, 3] with a LABEL_HEIGHT band of black text on white above it."""
    font = ImageFont.load_default()
    text_width = int(np.ceil(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(label, font)))
    width = max(image.shape[1], text_width + 2)
    band = Image.new("RGB", (width, LABEL_HEIGHT), (BACKGROUND,) * 3)
    ImageDraw.Draw(band).text((1, 2), label, fill=(0, 0, 0), font=font)
    out = np.full((LABEL_HEIGHT + image.shape[0], width, 3), BACKGROUND, np.uint8)
    out[:LABEL_HEIGHT] = np.asarray(band)
    out[LABEL_HEIGHT:, :image.shape[1]] = image
    return out
