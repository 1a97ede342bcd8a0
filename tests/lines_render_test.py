"""Tests for the lines32 renderer: geometry, anti-aliasing, labels and angle sampling."""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from acai_tf import lines

# Not resolved: under Bazel this is the runfiles tree, which holds acai_tf/.
REPO_ROOT = Path(__file__).absolute().parents[1]
CARDINALS = (0.0, math.pi / 2, math.pi, 3 * math.pi / 2)


def _render_one(angle: float) -> np.ndarray:
    """Renders a single line as a [32, 32] array."""
    return lines.render_lines(np.array([angle]))[0, ..., 0]


def _ink(images: np.ndarray) -> np.ndarray:
    """Total ink per image, sum((m + 1) / 2) over the pixels."""
    return ((images + 1.0) / 2.0).sum(axis=(-3, -2, -1))


def test_shape_dtype_and_range():
    angles = np.random.default_rng(0).uniform(0, 2 * math.pi, size=(3, 5))
    images = lines.render_lines(angles)
    assert images.shape == (3, 5, 32, 32, 1)
    assert images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    assert lines.render_lines(angles, dtype=np.float64).dtype == np.float64
    assert lines.render_lines(np.zeros(0)).shape == (0, 32, 32, 1)


def test_batch_rendering_equals_one_at_a_time():
    angles = np.random.default_rng(1).uniform(0, 2 * math.pi, size=40)
    batch = lines.render_lines(angles)
    for i, angle in enumerate(angles):
        np.testing.assert_array_equal(batch[i, ..., 0], _render_one(angle))


def test_angle_zero_points_right():
    image = _render_one(0.0)
    expected = np.full((32, 32), -1.0, np.float32)
    expected[15:17, 16:31] = 1.0
    np.testing.assert_array_equal(image, expected)


def test_angle_half_pi_points_up():
    image = _render_one(math.pi / 2)
    expected = np.full((32, 32), -1.0, np.float32)
    expected[1:16, 15:17] = 1.0
    np.testing.assert_array_equal(image, expected)


def test_angle_pi_points_left_and_three_half_pi_points_down():
    rows, cols = np.nonzero(_render_one(math.pi) > -1)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (15, 16, 1, 15)
    rows, cols = np.nonzero(_render_one(3 * math.pi / 2) > -1)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (16, 30, 15, 16)


def test_cardinal_angles_are_binary_with_30_pixels_of_ink():
    images = lines.render_lines(np.array(CARDINALS))
    assert set(np.unique(images)) == {-1.0, 1.0}
    np.testing.assert_array_equal(_ink(images), 30.0)


def test_diagonal_is_antialiased_with_22_pixels_of_ink():
    image = _render_one(math.pi / 4)
    values = np.unique(np.round(image, 6))
    np.testing.assert_array_equal(values, [-1.0, 0.0, 1.0])
    assert (np.abs(image) < 1e-6).sum() > 0
    np.testing.assert_allclose(_ink(image[..., None]), 22.0, atol=1e-5)
    rows, cols = np.nonzero(image > -1)
    # Up and to the right, from the centre.
    assert rows.min() == 5 and rows.max() == 17 and cols.min() == 16 and cols.max() == 26


def test_ink_stays_between_diagonal_and_cardinal_amounts():
    ink = _ink(lines.render_lines(np.linspace(0, 2 * math.pi, 720, endpoint=False)))
    assert ink.min() > 21.2 and ink.max() < 30.0 + 1e-5


def test_fractional_coverage_at_a_generic_angle():
    # theta = 1 rad is steep: every row holds a fully inked pixel flanked by two edge pixels
    # whose coverages (m + 1) / 2 add up to one pixel, except the partly covered first row.
    image = lines.render_lines(np.array([1.0]), dtype=np.float64)[0, ..., 0]
    lit_rows = np.nonzero((image > -1).any(axis=1))[0]
    np.testing.assert_array_equal(lit_rows, np.arange(3, 16))
    coverage = ((image + 1) / 2).sum(axis=1)[lit_rows]
    np.testing.assert_allclose(coverage[1:], 2.0, atol=1e-12)
    assert 0.0 < coverage[0] < 2.0
    np.testing.assert_allclose(image[3, 23:26], [-0.58726042, 0.24412954, -0.16861004],
                               atol=1e-8)


def test_golden_checksums():
    # Pins the exact rasterisation (verified pixel for pixel against the paper's renderer).
    images = lines.render_lines(np.arange(64) * 0.1, dtype=np.float64)
    weights = np.arange(32 * 32, dtype=np.float64).reshape(32, 32, 1)
    np.testing.assert_allclose(images.sum(), -62021.844471371835, rtol=1e-13)
    np.testing.assert_allclose((images ** 2).sum(), 64364.86125137507, rtol=1e-13)
    np.testing.assert_allclose((images * weights).sum(), -31713661.871693026, rtol=1e-13)


def test_angle_labels():
    two_pi = 2 * math.pi
    angles = np.array([0.0, 0.5 * two_pi / 10, 0.0999999 * two_pi, 0.1 * two_pi, math.pi,
                       0.95 * two_pi, two_pi - 2e-6])
    labels = lines.angle_labels(angles)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 5, 9, 9])


def test_angle_labels_keep_the_last_sliver_of_the_circle_in_range():
    # int(10 * theta / (2 pi - 1e-6)) would be 10 here.
    np.testing.assert_array_equal(lines.angle_labels(np.array([2 * math.pi - 5e-7])), [9])


def test_labels_are_balanced_over_uniform_angles():
    labels = lines.angle_labels(lines.uniform_angles(100_000, 0))
    counts = np.bincount(labels, minlength=10)
    assert counts.shape == (10,)
    np.testing.assert_allclose(counts / 100_000, 0.1, atol=0.005)


def test_uniform_angles_range_and_seeding():
    angles = lines.uniform_angles(10_000, 7)
    assert angles.shape == (10_000,) and angles.dtype == np.float64
    assert angles.min() >= 0.0 and angles.max() < 2 * math.pi
    np.testing.assert_array_equal(angles, lines.uniform_angles(10_000, 7))
    assert not np.array_equal(angles, lines.uniform_angles(10_000, 8))
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(lines.uniform_angles(10_000, rng), angles)


def test_module_does_not_import_tensorflow():
    code = "import sys, acai_tf.lines; sys.exit('tensorflow' in sys.modules)"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
