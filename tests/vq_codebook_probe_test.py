"""benchmarks/official/vq_codebook_probe.py: the EMA rule it predicts with, checked on our
quantiser, and its one-line errors. (The real runs' probes are quoted in the README.)"""

import os
import subprocess
import sys

import numpy as np
import pytest

from acai_tf.models import vector_quantizer

OFFICIAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks", "official")
sys.path.insert(0, OFFICIAL)
import vq_codebook_probe  # noqa: E402  pylint: disable=wrong-import-position


def test_never_used_codes_follow_the_rule_in_our_quantizer():
    # The paper's codebook (2^14 codes, decay 0.999, epsilon 1e-5) and 640 vectors per step
    # (batch 64 x 10 latents), all picking code 0: every other code is never used.
    num_codes, dim, per_step = 2 ** 14, 4, 640
    quantizer = vector_quantizer.VectorQuantizer(num_codes, dim, seed=1)
    initial = quantizer.codebook.numpy().copy()
    counts = np.zeros(num_codes, np.float32)
    counts[0] = per_step
    sums = np.zeros((num_codes, dim), np.float32)
    sums[0] = per_step * 0.5
    for step in range(1, 301):
        quantizer.ema_update(counts, sums)
        if step in (1, 300):
            growth = quantizer.codebook.numpy()[1:] / initial[1:]
            np.testing.assert_allclose(growth, vq_codebook_probe.never_used_growth(
                step, per_step, num_codes, 0.999, 1e-5), rtol=1e-4)
            if step == 1:
                # The zero initial counts: n = 0.64 after one step, so an unused code's
                # smoothed count is about epsilon and the code grows 1.25e5-fold.
                assert 1.25e5 < growth.min() <= growth.max() < 1.26e5
    # The used code: the EMA of its vector sums over its smoothed EMA count, which the
    # smoothing lowers by (n + K epsilon) / n, about 1.001 here: 0.5 becomes 0.5005.
    kept = 0.999 ** 300
    total = per_step * (1 - kept)
    smoothed = (total + 1e-5) / (total + num_codes * 1e-5) * total
    np.testing.assert_allclose(quantizer.codebook.numpy()[0],
                               (kept * initial[0] + (1 - kept) * per_step * 0.5) / smoothed,
                               rtol=1e-4)


def test_the_expected_norm_starts_from_the_uniform_codebook():
    quantizer = vector_quantizer.VectorQuantizer(2 ** 14, 256, seed=2)
    norms = np.linalg.norm(quantizer.codebook.numpy(), axis=1)
    assert vq_codebook_probe.never_used_norm(1, 640, 2 ** 14, 256, 0.999, 1e-5) == (
        pytest.approx(np.median(norms) * vq_codebook_probe.never_used_growth(
            1, 640, 2 ** 14, 0.999, 1e-5), rel=0.01))


def test_bad_workdir_fails_in_one_line(tmp_path):
    command = [sys.executable, os.path.join(OFFICIAL, "vq_codebook_probe.py"),
               f"--workdir={tmp_path / 'nowhere'}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nowhere'} is not a run folder: no config.json"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
