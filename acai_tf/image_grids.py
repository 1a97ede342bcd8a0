"""Image grids of the training reports: tiling, conversion to 8 bits and PNG files (numpy only).

Layouts follow the reference's image summaries:
- reconstruction: 16 rows x 4 (input, reconstruction) pairs side by side;
- interpolation / slerp: one row per image pair, the interpolants from left to right;
- samples: decoded random latents, 16 x 16.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from acai_tf import atomic_write


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


def write_png(path: str, grid: np.ndarray) -> None:
    """Writes a grid of [-1, 1] values [H, W, 1 or 3] as an 8-bit PNG (gray or RGB).

    The file is written under a unique temporary name and renamed, so a reader never sees half
    a PNG (see `acai_tf.atomic_write`).
    """
    pixels = to_uint8(grid)
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 3):
        raise ValueError(f"expected [H, W, 1 or 3], got shape {pixels.shape}")
    image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    with atomic_write.replacing(path, "wb") as f:
        image.save(f, format="PNG")


def png_name(name: str, kimg: float) -> str:
    """File name of a grid at a report: `<name>_<kimg:08.1f>.png`, e.g. samples_000064.0.png."""
    return f"{name}_{kimg:08.1f}.png"
