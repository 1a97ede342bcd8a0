"""Speed of the lines32 data and metrics: renderer, train stream and one full metric evaluation.

    python benchmarks/lines_benchmark.py
    python benchmarks/lines_benchmark.py --batch=64,256 --seconds=5

The metric is timed first, in a fresh process, so its first call includes building the cached
reference bank; later calls reuse it. The train stream is timed after a warm-up, pulling batches
as a training loop would.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

# Run as a script, only benchmarks/ is on sys.path; the library lives at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()


def time_metrics(repeats: int) -> tuple[float, float]:
    """Seconds of line_metrics on 256 x 16 images: (first call with bank build, median later)."""
    from acai_tf.lines import metric, reference

    images = reference.reference_interpolations("blend", seed=0)
    start = time.perf_counter()
    metric.line_metrics(images)
    first = time.perf_counter() - start
    later = []
    for _ in range(repeats):
        start = time.perf_counter()
        metric.line_metrics(images)
        later.append(time.perf_counter() - start)
    return first, statistics.median(later)


def time_renderer(seconds: float) -> float:
    """Images per second of render_lines on chunks of 4096 angles."""
    from acai_tf import lines

    angles = lines.uniform_angles(4096, 0)
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        lines.render_lines(angles)
        count += angles.size
    return count / (time.perf_counter() - start)


def time_train_stream(batch_size: int, seconds: float, warmup_batches: int = 100) -> float:
    """Images per second delivered by the lines32 train stream, after warm-up."""
    from acai_tf.lines import dataset as lines32

    iterator = iter(lines32.train_stream(batch_size=batch_size, seed=0))
    for _ in range(warmup_batches):
        next(iterator)
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        count += int(next(iterator)["image"].shape[0])
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", default="64",
                        help="comma-separated train-stream batch sizes (default 64)")
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="timing window per throughput measurement (default 5)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="cached metric evaluations to take the median of (default 5)")
    args = parser.parse_args()

    first, cached = time_metrics(args.repeats)
    print(f"line_metrics 256x16: {cached:.2f} s (first call with bank build {first:.2f} s)")
    print(f"render_lines: {time_renderer(args.seconds):,.0f} images/s (chunks of 4096)")
    for batch_size in (int(b) for b in args.batch.split(",")):
        rate = time_train_stream(batch_size, args.seconds)
        print(f"lines32 train stream: {rate:,.0f} images/s (batch {batch_size})")


if __name__ == "__main__":
    main()
