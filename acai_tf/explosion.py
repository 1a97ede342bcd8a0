"""Detecting a loss that explodes while staying finite, before the wrecked model is saved.

The rule, per `losses/*` log (magnitudes, so that negative ones such as a VAE's log-likelihood
count too):

    level     = mean of the last WINDOW steps
    reference = median of the means of the last HISTORY blocks of WINDOW steps that ended
                before that window began
    trip when   level > factor x reference + FLOOR, once HISTORY + 1 blocks have been seen

Averaging over a window keeps one noisy step of an adversarial loss from tripping it; the median
over blocks ignores a block that a single spike inflated, and follows the slow downward drift of
a healthy loss; since the reference only holds steps this process has seen, a resumed run warms up
again. FLOOR keeps losses that sit near 0 (a critic's, a small KL) from tripping by ratio alone.
The early steps of training, whose losses are large and falling fast, only lower the level
against the reference, and the warm-up of HISTORY blocks lets the losses that rise early (a
KL, an adversarial loss) settle before they are judged.

Keras hands callbacks the running mean of each log since the epoch (report period) began;
`StepValues` recovers the value of every single step from it.
"""

from __future__ import annotations

import collections
import dataclasses
import statistics
from typing import Mapping

# Steps per window and per reference block: long enough to average an adversarial loss's
# step-to-step noise, short enough that a blow-up trips within tens of steps.
WINDOW = 32
# Blocks in the reference: 8 x 32 = 256 steps of memory; with the block that overlaps the
# window, nothing is judged in a process's first 288 steps.
HISTORY = 8
# In loss units. The losses here are O(0.01 - 1) per pixel or per example (a VAE's sums:
# O(100)), but adversarial log-losses that sit near 0 can legitimately rise to a few units when
# one adversary takes the lead (a healthy AAE's generator loss: 0.008 -> 2.2 within 300
# steps), and no reconstruction error of a working model (data in [-1, 1]) exceeds 4.
FLOOR = 10.0
# Default factor. Evidence (benchmarks/loss_traces.py: the lines32 paper networks, batch 64,
# seed 0, per-step losses replayed through this rule):
# - ACAI at lr 1e-3 reproduces the reported blow-up: reconstruction about 0.02 until step 790
#   (49 kimg), then 0.4 - 1 for ten steps, then 1e5 - 1e9, every other loss 1e9 - 1e12. With
#   this floor, factors 20 to 100 all trip at step 808 (50.5 kimg; ae_adversarial 724 against
#   0.016), well before the next checkpoint.
# - Healthy runs of all seven models, 40 kimg (640 steps) from step 0: once warm, the factor
#   that a loss would have needed to trip is at most 1.1 for baseline, dropout, denoising, VAE,
#   VQ-VAE and ACAI; the AAE is the closest call, its latent classifier's loss at 169 against a
#   reference of 29 (5.5 with this floor). 20 leaves a margin of 3.6 over that, and of 1e5 under
#   the blow-up's ratios.
DEFAULT_FACTOR = 20.0


class StepValues:
    """Recovers per-step values from running means m_k over the k steps of an epoch.

    The model's trackers are `keras.metrics.Mean`s over equal-sized batches, so step k's own
    value is k m_k - (k - 1) m_(k-1). The trackers sum in float32: the error grows like
    k x 6e-8 relative to the mean, about 1e-4 after 1,000 steps, which is far below anything a
    factor-of-many explosion test can notice. Call `reset()` when an epoch begins.
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.means: dict[str, float] = {}

    def update(self, running_means: Mapping[str, float]) -> dict[str, float]:
        """Takes the running means after one more step; returns that step's `losses/*` values."""
        self.count += 1
        values = {}
        for key, mean in running_means.items():
            if not key.startswith("losses/"):
                continue
            previous = self.means.get(key, 0.0)
            values[key] = self.count * mean - (self.count - 1) * previous
            self.means[key] = mean
        return values


@dataclasses.dataclass(frozen=True)
class Trip:
    """A loss over its threshold: `level` (mean of the last window) against `reference`."""

    key: str
    level: float
    reference: float
    threshold: float


class _Series:
    """One loss: its last `window` magnitudes and the means of its completed blocks."""

    def __init__(self, window: int, history: int):
        self.window = window
        self.recent: collections.deque[float] = collections.deque(maxlen=window)
        # One block more than the reference uses: the newest may overlap the judged window.
        self.blocks: collections.deque[float] = collections.deque(maxlen=history + 1)
        self.block_sum, self.block_count, self.steps = 0.0, 0, 0

    def add(self, value: float) -> None:
        self.recent.append(value)
        self.steps += 1
        self.block_sum += value
        self.block_count += 1
        if self.block_count == self.window:
            self.blocks.append(self.block_sum / self.window)
            self.block_sum, self.block_count = 0.0, 0

    def reference_blocks(self) -> list[float]:
        """The blocks that ended before the last `window` steps began.

        Blocks end at multiples of `window` steps, so the newest one always lies within the
        last `window` steps (it is them when the count is a multiple): it is left out.
        """
        return list(self.blocks)[:-1]


class ExplosionRule:
    """The rule of the module docstring over a stream of per-step `losses/*` values.

    Args:
        factor: trip when the level exceeds factor x reference + floor; must be > 1.
        floor: absolute margin, in loss units.
        window: steps per window and per reference block.
        history: reference blocks; nothing is judged before that many have completed.
    """

    def __init__(self, factor: float = DEFAULT_FACTOR, floor: float = FLOOR,
                 window: int = WINDOW, history: int = HISTORY):
        if not factor > 1:
            raise ValueError(f"factor must be greater than 1, got {factor}")
        self.factor, self.floor, self.window, self.history = factor, floor, window, history
        self.series: dict[str, _Series] = {}

    def update(self, values: Mapping[str, float]) -> None:
        """Adds one step's values {key: value}."""
        for key, value in values.items():
            series = self.series.setdefault(key, _Series(self.window, self.history))
            series.add(abs(value))

    def levels(self) -> dict[str, tuple[float, float]]:
        """{key: (level, reference)} of the losses warm enough to be judged."""
        judged = {}
        for key, series in self.series.items():
            blocks = series.reference_blocks()
            if len(blocks) >= self.history and len(series.recent) == self.window:
                judged[key] = (sum(series.recent) / self.window,
                               statistics.median(blocks[-self.history:]))
        return judged

    def ratios(self) -> dict[str, float]:
        """{key: level / reference} of the judged losses (for studying the rule)."""
        return {key: level / max(reference, 1e-30)
                for key, (level, reference) in self.levels().items()}

    def check(self) -> Trip | None:
        """The judged loss furthest over its threshold, if any (reconstruction first on ties)."""
        worst = None
        for key, (level, reference) in sorted(self.levels().items()):
            threshold = self.factor * reference + self.floor
            if level > threshold and (worst is None or
                                      level / threshold > worst.level / worst.threshold):
                worst = Trip(key, level, reference, threshold)
        return worst
