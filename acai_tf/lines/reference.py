"""Interpolations with known metric values, built directly in image space (tests, demos).

They have the layout of the lines protocol (`acai_tf.lines.metric`): N interpolations of S
images, endpoints included, [N, S, 32, 32, 1] in [-1, 1], between independent uniform angles.
"""

from __future__ import annotations

import numpy as np

from acai_tf.lines import render
from acai_tf.lines.metric import NUM_INTERPOLATIONS, STEPS

INTERPOLATION_KINDS = ("angular", "long_way", "blend", "abrupt")


def sample_endpoint_angles(num_interpolations: int = NUM_INTERPOLATIONS,
                           seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Draws independent uniform start and end angles, as the evaluation protocol does.

    Args:
        num_interpolations: number of (start, end) pairs.
        seed: seed of the draw (None: nondeterministic).

    Returns:
        (start, end): float64 arrays [num_interpolations] in [0, 2*pi).
    """
    rng = np.random.default_rng(seed)
    return (render.uniform_angles(num_interpolations, rng),
            render.uniform_angles(num_interpolations, rng))


def reference_interpolations(kind: str, start: np.ndarray | None = None,
                             end: np.ndarray | None = None, *, steps: int = STEPS,
                             num_interpolations: int = NUM_INTERPOLATIONS,
                             seed: int | None = 0) -> np.ndarray:
    """Interpolations with known metric values, built directly in image space.

    Kinds:
        "angular": the ideal interpolation, lines at angles sweeping uniformly along the shorter
            arc from start to end (distance ~0, smoothness ~0).
        "long_way": a uniform sweep along the longer arc; also scores ~0, because the metric
            measures the path taken after unwrapping.
        "blend": the pixel-space cross-fade (1 - w) * x_start + w * x_end, w = 0..1 (what an
            autoencoder that interpolates poorly produces; smoothness ~0.9).
        "abrupt": x_start for the first half of the steps, then x_end (smoothness
            1 - 1/(steps - 1) when the two lines differ).

    Args:
        kind: one of INTERPOLATION_KINDS.
        start: float array [N] of start angles in radians; None draws them with
            `sample_endpoint_angles(num_interpolations, seed)`, as well as end.
        end: float array [N] of end angles; given together with start.
        steps: images per interpolation (>= 2), endpoints included.
        num_interpolations: N when the angles are drawn.
        seed: seed of the drawn angles.

    Returns:
        float32 [N, steps, 32, 32, 1] in [-1, 1]; step 0 renders start and step steps - 1
        renders end.
    """
    if kind not in INTERPOLATION_KINDS:
        raise ValueError(f"kind must be one of {INTERPOLATION_KINDS}, got {kind!r}")
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    if (start is None) != (end is None):
        raise ValueError("give both start and end angles, or neither")
    if start is None:
        start, end = sample_endpoint_angles(num_interpolations, seed)
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    if start.ndim != 1 or start.shape != end.shape:
        raise ValueError(f"start and end must be 1-D of equal length, got {start.shape} and "
                         f"{end.shape}")
    t = np.linspace(0.0, 1.0, steps)

    if kind in ("angular", "long_way"):
        shorter = np.mod(end - start + np.pi, 2 * np.pi) - np.pi          # in [-pi, pi)
        turn = shorter if kind == "angular" else shorter - np.copysign(2 * np.pi, shorter)
        angles = start[:, None] + t[None, :] * turn[:, None]
        # Exact endpoints, rather than start + turn, which can differ from end in the last bit.
        angles[:, 0] = start
        angles[:, -1] = end
        return render.render_lines(angles)

    first = render.render_lines(start)[:, None]
    last = render.render_lines(end)[:, None]
    if kind == "blend":
        weights = t.reshape(1, steps, 1, 1, 1)
        return ((1.0 - weights) * first + weights * last).astype(np.float32)
    second_half = (np.arange(steps) >= steps // 2).reshape(1, steps, 1, 1, 1)
    return np.where(second_half, last, first).astype(np.float32)
