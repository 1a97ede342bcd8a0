"""Tests for the interpolations with known metric values (the protocol's layout and endpoints)."""

import math
import sys

import numpy as np
import pytest

from acai_tf import lines
from acai_tf.lines import metric, reference


def test_reference_interpolations_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        reference.reference_interpolations("spline")
    with pytest.raises(ValueError, match="both start and end"):
        reference.reference_interpolations("blend", start=np.zeros(3))
    with pytest.raises(ValueError, match="equal length"):
        reference.reference_interpolations("blend", np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="steps must be >= 2"):
        reference.reference_interpolations("blend", steps=1)


def test_sample_endpoint_angles():
    start, end = reference.sample_endpoint_angles(seed=4)
    assert start.shape == end.shape == (metric.NUM_INTERPOLATIONS,) == (256,)
    assert min(start.min(), end.min()) >= 0 and max(start.max(), end.max()) < 2 * math.pi
    assert not np.array_equal(start, end)
    again = reference.sample_endpoint_angles(seed=4)
    np.testing.assert_array_equal(start, again[0])
    np.testing.assert_array_equal(end, again[1])


@pytest.mark.parametrize("kind", reference.INTERPOLATION_KINDS)
def test_reference_interpolations_layout_and_endpoints(kind):
    images = reference.reference_interpolations(kind, seed=2)
    assert images.shape == (256, 16, 32, 32, 1) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    start, end = reference.sample_endpoint_angles(seed=2)
    np.testing.assert_array_equal(images[:, 0], lines.render_lines(start))
    np.testing.assert_array_equal(images[:, -1], lines.render_lines(end))


def test_angular_sweep_takes_the_shorter_arc():
    start, end = np.array([0.2, 6.0]), np.array([6.0, 0.2])
    images = reference.reference_interpolations("angular", start, end, steps=9)
    _, angles = metric.closest_lines(images)
    unwrapped = np.unwrap(angles, axis=1)
    np.testing.assert_allclose(np.abs(unwrapped[:, -1] - unwrapped[:, 0]),
                               2 * math.pi - 5.8, atol=1e-3)
    long_way = reference.reference_interpolations("long_way", start, end, steps=9)
    unwrapped = np.unwrap(metric.closest_lines(long_way)[1], axis=1)
    np.testing.assert_allclose(np.abs(unwrapped[:, -1] - unwrapped[:, 0]), 5.8, atol=1e-3)



if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
