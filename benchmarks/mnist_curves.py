"""Learning curves of the MNIST runs from their saved records: Tables 2 and 3 as curves.

    python benchmarks/mnist_curves.py                  # results/runs -> results/mnist_curves.*
    python benchmarks/mnist_curves.py --records_dir=results/runs --out_dir=results

Reads the records that benchmarks/long_runs.py saves for the runs `mnist_<model>_latent<L>_seed<k>`
and writes into --out_dir (see acai_tf/reproduction/mnist_curves.py):

- mnist_curves.png: the in-training single-layer classifier's test accuracy against kimg on a
  log axis, one colour per model (ACAI black), 256-d solid and 32-d dashed, with the K-means
  accuracy of every evaluated checkpoint as a marker;
- mnist_curves.md: per run, its kimg and reports, its last accuracy, Table 2's cell (the median
  of the last 20 reports) and its K-means points.
"""

from __future__ import annotations

import os
import sys

# Run as a script, only benchmarks/ is on sys.path; the library lives at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
from acai_tf.cli.reproduce import run_curves
from acai_tf.reproduction.mnist_curves import write

if __name__ == "__main__":
    run_curves(write, _ROOT)
