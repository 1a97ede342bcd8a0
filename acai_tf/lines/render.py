"""Renderer for the synthetic lines32 images: one anti-aliased 2-px stroke from the centre.

Each image is a 32x32 single-channel picture of a line segment of radius 15 px that starts at the
image centre (16, 16) and points at angle theta, measured counter-clockwise from the +x axis with
rows growing downwards (theta = pi/2 points up). The background is -1 and full ink is +1; partly
covered pixels take intermediate values. The rasteriser walks the line's major axis one pixel row
at a time (swapping the axes for shallow lines), gives the 2-px wide span on each row full
coverage, and gives fractional coverage to the span's two edge pixels and to the partially covered
first row. This is the interpolation benchmark's ground truth, so it must stay bit-for-bit stable:
the metric in `acai_tf.lines.metric` matches decoded images against these renders.

Everything here is plain numpy and vectorised over the batch of angles.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

IMAGE_SIZE = 32
NUM_CLASSES = 10
STROKE_WIDTH = 2.0

_CENTRE = IMAGE_SIZE * 0.5
_RADIUS = _CENTRE - 1.0
# A 2-px span starting at a fractional position touches at most 4 pixels of its row (left edge,
# two full pixels, right edge); the extra one covers xs + 2 rounding up to the next integer.
_SPAN_PIXELS = int(math.ceil(STROKE_WIDTH)) + 2
# The label formula's denominator; kept as written so labels agree with the paper's setup.
_LABEL_PERIOD = 2.0 * math.pi - 1e-6


def uniform_angles(count: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Draws line angles uniformly from [0, 2*pi).

    Args:
        count: number of angles to draw.
        rng: a numpy Generator, or a seed for a fresh one (None: nondeterministic).

    Returns:
        float64 array [count] with values in [0, 2*pi).
    """
    rng = np.random.default_rng(rng)
    return 2.0 * rng.random(count) * math.pi


def angle_labels(angles: np.ndarray) -> np.ndarray:
    """Class labels of line angles: 10 equal angular bins, int(10 * theta / (2*pi - 1e-6)).

    The formula yields 10 for theta in [2*pi - 1e-6, 2*pi) (about one sample in 6 million), which
    is not a valid class; those are clamped into the last bin so a label is always in [0, 10).

    Args:
        angles: float array of any shape, angles in radians in [0, 2*pi).

    Returns:
        int64 array of the same shape, labels in [0, NUM_CLASSES).
    """
    angles = np.asarray(angles, dtype=np.float64)
    labels = (10.0 * angles / _LABEL_PERIOD).astype(np.int64)
    return np.clip(labels, 0, NUM_CLASSES - 1)


def render_lines(angles: np.ndarray, *, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
    """Renders one line image per angle.

    Args:
        angles: float array of any shape S, angles in radians (any real value; the usual range is
            [0, 2*pi)).
        dtype: floating dtype of the result. Coverage is computed in float64 either way; the
            interpolation metric keeps float64 for its reference bank.

    Returns:
        Array of shape S + (32, 32, 1) and the given dtype, values in [-1, 1]: -1 background,
        +1 full ink.
    """
    angles = np.asarray(angles, dtype=np.float64)
    batch_shape = angles.shape
    theta = angles.reshape(-1)
    n = theta.shape[0]

    # Endpoints in (column, row) = (x, y) pixel coordinates; the line starts at the centre.
    x_start = np.full(n, _CENTRE)
    y_start = np.full(n, _CENTRE)
    x_end = _CENTRE + _RADIUS * np.cos(-theta)
    y_end = _CENTRE + _RADIUS * np.sin(-theta)

    # Walk along the major axis `a` (rows for steep lines, columns for shallow ones), so every
    # step advances the minor axis `b` by at most one pixel.
    shallow = np.abs(y_start - y_end) < np.abs(x_start - x_end)
    a0 = np.where(shallow, x_start, y_start)
    a1 = np.where(shallow, x_end, y_end)
    b0 = np.where(shallow, y_start, x_start)
    b1 = np.where(shallow, y_end, x_end)
    # Always walk towards increasing a.
    backwards = a1 < a0
    a0, a1, b0, b1 = (np.where(backwards, a1, a0), np.where(backwards, a0, a1),
                      np.where(backwards, b1, b0), np.where(backwards, b0, b1))
    # The stroke spans [b - w/2, b + w/2] across the minor axis.
    b0 = b0 - STROKE_WIDTH / 2
    b1 = b1 - STROKE_WIDTH / 2
    da = a1 - a0
    slope = np.divide(b1 - b0, da, out=np.zeros(n), where=da != 0)

    # Steps along the major axis: integers from floor(a0) up to ceil(a1) - 1.
    a_first = np.floor(a0)
    a_stop = np.ceil(a1)
    num_steps = int((a_stop - a_first).max()) if n else 0
    a = a_first[:, None] + np.arange(num_steps)[None, :]                 # [n, steps]
    on_line = a < a_stop[:, None]
    a_full = np.ceil(a0)[:, None]
    a_last = np.floor(a1)[:, None]
    # Only the step that starts before a0 is partly covered; the last step keeps weight 1
    # because the walk stops at ceil(a1) - 1 = floor(a1).
    weight = np.where(a < a_full, a_full - a0[:, None],
                      np.where(a > a_last, a1[:, None] - a_last, 1.0))

    # The span on each step: [xs, xs + w) along the minor axis, sampled half a pixel back.
    xs = b0[:, None] + (a - a0[:, None] - 0.5) * slope[:, None]
    xe = xs + STROKE_WIDTH
    full_lo = np.ceil(xs)
    full_hi = np.floor(xe)
    left = np.floor(xs)

    b = left[..., None] + np.arange(_SPAN_PIXELS)                       # [n, steps, span]
    w = weight[..., None]
    in_full = (b >= full_lo[..., None]) & (b < full_hi[..., None])
    # Edge pixels get the covered fraction; the three cases never hit the same pixel, so the
    # sum is just whichever term applies.
    left_frac = np.where((b == left[..., None]) & (full_lo != xs)[..., None],
                         w * (full_lo - xs)[..., None], 0.0)
    right_frac = np.where((b == full_hi[..., None]) & (full_hi != xe)[..., None],
                          w * (xe - full_hi)[..., None], 0.0)
    coverage = np.where(in_full, w, 0.0) + left_frac + right_frac

    a_idx = np.broadcast_to(a[..., None], b.shape)
    rows = np.where(shallow[:, None, None], b, a_idx)
    cols = np.where(shallow[:, None, None], a_idx, b)
    keep = (on_line[..., None] & (coverage > 0)
            & (rows >= 0) & (rows < IMAGE_SIZE) & (cols >= 0) & (cols < IMAGE_SIZE))
    image_idx = np.broadcast_to(np.arange(n)[:, None, None], b.shape)[keep]
    pixel_idx = rows[keep].astype(np.int64) * IMAGE_SIZE + cols[keep].astype(np.int64)

    # Ink adds 2 * coverage on a -1 background; every pixel is written at most once per image.
    images = np.full((n, IMAGE_SIZE * IMAGE_SIZE), -1.0, dtype=dtype)
    images[image_idx, pixel_idx] = np.clip(2.0 * coverage[keep] - 1.0, -1.0, 1.0)
    return images.reshape(batch_shape + (IMAGE_SIZE, IMAGE_SIZE, 1))
