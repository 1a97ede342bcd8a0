"""Tests for the lines32 interpolation metric, with known answers for known interpolations."""

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from acai_tf import lines
from acai_tf.lines import metric, reference

# Not resolved: under Bazel this is the runfiles tree, which holds acai_tf/.
REPO_ROOT = Path(__file__).absolute().parents[1]

# The single pair of the paper-code probes: from 5*pi/7 to 3*pi/2 in 16 steps.
PAIR = (np.array([5 * math.pi / 7]), np.array([3 * math.pi / 2]))
ABRUPT = 1 - 1 / 15


def _run_python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


# Known answers on one pair of lines.


def test_angular_sweep_is_a_perfect_interpolation():
    metrics = metric.line_metrics(reference.reference_interpolations("angular", *PAIR))
    assert metrics["mean_distance"] < 1e-6
    np.testing.assert_allclose(metrics["mean_distance"], 1.958e-7, rtol=1e-3)
    np.testing.assert_allclose(metrics["mean_smoothness"], 1.6968e-5, rtol=1e-3)


def test_long_way_round_is_not_penalised():
    # The metric measures the unwrapped path actually taken, so the longer arc also scores ~0.
    metrics = metric.line_metrics(
        reference.reference_interpolations("long_way", *PAIR))
    np.testing.assert_allclose(metrics["mean_distance"], 1.753e-7, rtol=1e-3)
    np.testing.assert_allclose(metrics["mean_smoothness"], 4.392e-5, rtol=1e-3)


def test_abrupt_switch_scores_one_minus_one_over_fifteen():
    metrics = metric.line_metrics(reference.reference_interpolations("abrupt", *PAIR))
    assert metrics["mean_distance"] < 1e-6
    np.testing.assert_allclose(metrics["mean_smoothness"], ABRUPT, rtol=1e-12)


def test_pixel_blend_of_one_pair():
    metrics = metric.line_metrics(reference.reference_interpolations("blend", *PAIR))
    np.testing.assert_allclose(metrics["mean_distance"], 7.2174e-3, rtol=1e-4)
    # 0.921 on these float32 images. The mid-blend frames are almost exactly equidistant from
    # mirror-image lines around the vertical end line, and the paper code's 0.940 on the
    # float64 version of these images comes from rounding breaking those ties the other way.
    np.testing.assert_allclose(metrics["mean_smoothness"], 0.92086, rtol=1e-4)


def test_long_way_fraction_flags_only_the_longer_arc():
    # 256 random pairs: the shorter-arc sweep is never long, the longer-arc one always (bar
    # pairs whose two arcs are within the tolerance), the blend and the jump do not turn.
    fractions = {kind: metric.line_metrics(reference.reference_interpolations(kind))[
        "long_way_fraction"] for kind in reference.INTERPOLATION_KINDS}
    assert fractions["angular"] == 0.0
    assert fractions["long_way"] >= 255 / 256
    assert fractions["abrupt"] == 0.0 and fractions["blend"] < 0.05


def test_long_way_flags_on_angles():
    # Quarter turn each way from 0: the short way (+pi/2) and the long way (-3pi/2) both end
    # at pi/2. A full loop back to the start turns 2*pi through a 0 arc. Near-opposite
    # endpoints (arcs pi +- 0.002) are within the tolerance, and a NaN angle flags nothing.
    t = np.linspace(0.0, 1.0, 16)
    paths = np.stack([t * np.pi / 2, -t * 3 * np.pi / 2, t * 2 * np.pi,
                      -t * (np.pi - 0.001), np.where(t > 0.5, np.nan, t)])
    flags = metric.long_way_flags(np.mod(paths, 2 * np.pi))
    assert flags.tolist() == [False, True, True, False, False]


# Known answers on the protocol's 256 random pairs.


def test_protocol_interpolations_with_random_pairs():
    values = {kind: metric.line_metrics(reference.reference_interpolations(kind))
              for kind in reference.INTERPOLATION_KINDS}
    assert values["angular"]["mean_distance"] < 1e-6
    assert values["angular"]["mean_smoothness"] < 2e-3      # bank quantisation on short arcs
    assert values["long_way"]["mean_distance"] < 1e-6
    assert values["long_way"]["mean_smoothness"] < 2e-3
    assert values["abrupt"]["mean_distance"] < 1e-6
    np.testing.assert_allclose(values["abrupt"]["mean_smoothness"], ABRUPT, rtol=1e-9)
    # The pixel-space blend: about 6.3e-3 and 0.88 for any draw of 256 pairs.
    blend = values["blend"]
    assert 5.8e-3 < blend["mean_distance"] < 6.8e-3
    assert 0.84 < blend["mean_smoothness"] < 0.92
    # Exact values for seed 0 (the paper's metric code gives the same on these images).
    np.testing.assert_allclose(blend["mean_distance"], 6.1668968e-3, rtol=1e-6)
    np.testing.assert_allclose(blend["mean_smoothness"], 0.87021949, rtol=1e-6)


def test_full_evaluation_is_fast():
    images = reference.reference_interpolations("blend", seed=1)
    metric.warm_up()
    start = time.perf_counter()
    metric.line_metrics(images)
    # About 0.2 s on an idle 2-core machine; the bound leaves room for a loaded one.
    assert time.perf_counter() - start < 5.0


# Matching against the reference lines.


def test_reference_lines_match_themselves_exactly():
    angles = np.arange(0, metric.BANK_SIZE, 997) * 2 * math.pi / metric.BANK_SIZE
    distances, matched = metric.closest_lines(lines.render_lines(angles))
    np.testing.assert_allclose(distances, 0.0, atol=1e-12)
    np.testing.assert_allclose(matched, angles, atol=1e-12)


def test_lines_between_reference_angles_match_a_neighbour():
    step = 2 * math.pi / metric.BANK_SIZE
    angles = lines.uniform_angles(200, 3)
    distances, matched = metric.closest_lines(lines.render_lines(angles))
    assert distances.shape == matched.shape == (200,)
    assert distances.max() < 1e-5
    gap = np.abs(np.mod(matched - angles + math.pi, 2 * math.pi) - math.pi)
    assert gap.max() < 3 * step


def test_cosine_distance_ignores_scale_but_not_offset():
    images = reference.reference_interpolations("blend", *PAIR)[0]
    distances, angles = metric.closest_lines(images)
    # A power of two keeps the float32 scaling exact.
    scaled_distances, scaled_angles = metric.closest_lines(4.0 * images)
    np.testing.assert_allclose(scaled_distances, distances, atol=1e-15)
    np.testing.assert_array_equal(scaled_angles, angles)
    # Raw [-1, 1] values are compared; [0, 1] images would be far from every reference line.
    assert metric.closest_lines((images + 1) / 2)[0].min() > 0.5


def test_closest_lines_keeps_leading_shape():
    images = reference.reference_interpolations("angular", num_interpolations=3, steps=5)
    distances, angles = metric.closest_lines(images)
    assert distances.shape == angles.shape == (3, 5)
    assert distances.dtype == angles.dtype == np.float64
    assert angles.min() >= 0 and angles.max() < 2 * math.pi


def test_undefined_images_give_nan():
    images = lines.render_lines(np.array([0.3, 1.0, 2.0]))
    images[1, 4, 4, 0] = np.nan
    images[2] = 0.0
    distances, angles = metric.closest_lines(images)
    assert np.isfinite(distances[0]) and np.isfinite(angles[0])
    assert np.isnan(distances[1:]).all() and np.isnan(angles[1:]).all()


# Smoothness.


def test_smoothness_scores_of_angle_sequences():
    uniform = np.linspace(1.0, 2.5, 16)
    jump = np.where(np.arange(16) < 8, 1.0, 2.5)
    across_zero = np.mod(np.linspace(6.0, 6.9, 16), 2 * math.pi)       # wraps past 2*pi
    backwards = uniform[::-1]
    scores = metric.smoothness_scores(np.stack([uniform, jump, across_zero, backwards]))
    np.testing.assert_allclose(scores, [0.0, ABRUPT, 0.0, 0.0], atol=1e-12)


def test_smoothness_is_nan_without_angular_change():
    constant = np.full(16, 2.0)
    round_trip = np.concatenate([np.linspace(2.0, 3.0, 8), np.linspace(3.0, 2.0, 8)])
    tiny = np.linspace(2.0, 2.0 + 5e-5, 16)
    scores = metric.smoothness_scores(np.stack([constant, round_trip, tiny]))
    assert np.isnan(scores).all()


def test_undefined_smoothness_counts_as_zero_in_the_mean():
    jump = reference.reference_interpolations("abrupt", *PAIR)
    constant = np.repeat(lines.render_lines(np.array([1.0]))[:, None], 16, axis=1)
    metrics = metric.line_metrics(np.concatenate([jump, constant, constant]))
    np.testing.assert_allclose(metrics["mean_smoothness"], ABRUPT / 3, rtol=1e-12)
    assert metrics["mean_distance"] < 1e-6


def test_all_undefined_smoothness_gives_nan():
    constant = np.repeat(lines.render_lines(np.array([1.0, 4.0]))[:, None], 16, axis=1)
    metrics = metric.line_metrics(constant)
    assert math.isnan(metrics["mean_smoothness"])
    assert metrics["mean_distance"] < 1e-6


def test_non_finite_outputs_make_the_mean_distance_nan():
    images = reference.reference_interpolations("angular", num_interpolations=4)
    images[2, 7] = np.inf
    metrics = metric.line_metrics(images)
    assert math.isnan(metrics["mean_distance"])
    assert math.isfinite(metrics["mean_smoothness"])


# Input validation.


@pytest.mark.parametrize("shape", [(16, 32, 32, 1), (2, 16, 32, 32), (2, 16, 28, 28, 1),
                                   (0, 16, 32, 32, 1), (2, 1, 32, 32, 1), (1, 2, 16, 32, 32, 1)])
def test_line_metrics_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match=r"interpolations must have shape \[N >= 1, steps >= 2"):
        metric.line_metrics(np.zeros(shape, np.float32))


def test_closest_lines_rejects_bad_input():
    with pytest.raises(ValueError, match=r"images must have shape \[\.\.\., 32, 32, 1\]"):
        metric.closest_lines(np.zeros((4, 32, 32)))
    with pytest.raises(ValueError, match="real-valued"):
        metric.closest_lines(np.zeros((4, 32, 32, 1), np.complex64))


def test_smoothness_scores_rejects_bad_shapes():
    with pytest.raises(ValueError, match="angles must have shape"):
        metric.smoothness_scores(np.zeros(16))
    with pytest.raises(ValueError, match="angles must have shape"):
        metric.smoothness_scores(np.zeros((3, 1)))


# Packaging.


def test_import_is_light_and_tensorflow_free():
    result = _run_python(
        "import sys\n"
        "from acai_tf.lines import metric\n"
        "assert metric._reference_bank.cache_info().currsize == 0\n"
        "sys.exit('tensorflow' in sys.modules)\n")
    assert result.returncode == 0, result.stderr


def test_reference_bank_is_built_once():
    assert metric._reference_bank() is metric._reference_bank()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
