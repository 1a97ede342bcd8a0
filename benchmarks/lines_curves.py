"""Learning curves of the lines32 runs from their saved records, and the official code beside ours.

    python benchmarks/lines_curves.py                  # results/runs -> results/lines_curves.*
    python benchmarks/lines_curves.py --records_dir=results/runs --out_dir=results

Reads the records that benchmarks/long_runs.py saves (RECORDS/<name>/{config.json,
metrics.jsonl}): this project's runs `lines_<model>_seed<k>` and the official TF1 code's
`official_lines_<model>_seed<k>` (benchmarks/official/official_reference.py). Writes into --out_dir:

- lines_curves.png: reconstruction MSE (the training batches' `losses/reconstruction`, log
  scale, with the 0.07 plateau line), mean distance and mean smoothness of the lines benchmark
  (256 test pairs x 16 steps, every report; the smoothness axis is cut at 1.5) against kimg on a
  log axis, one colour per model in the paper's order (seed 0 solid, other seeds faint, lost
  runs dotted, then dash-dotted); pixel blending of the same pairs is the dashed grey line.
- lines_curves.md: one row per run: its kimg, reports and cadence, where it left the plateau
  (the first report with reconstruction MSE below 0.07, the mean image's 0.080 being the
  plateau), its last values and Table 1's value (median of the last 20 reports), its precision
  and commits.
  When a run was restarted after its workdir was lost, a second table puts the restart beside
  its lost runs at the kimg two of them reached (RESTART_BUDGETS and each run's last report),
  each with its value there, Table 1's median of its last 20 reports up to there and the CPU
  class it trained on.
- official_reference.png / .md, when official records exist: the same three panels with our
  runs solid and the official code's dashed, for the models both have, and the official seed-0
  run beside each of ours at the kimg both reached.

Nothing is extrapolated: a curve ends at its last report. A record folder marked `.lost-` holds
the reports of a run whose workdir was lost (long_runs.py); its run restarted from step 0 in the
record without the mark. Both are measurements, so both are drawn and listed, as two runs: the
lost one dotted (a second lost run of the same model and seed dash-dotted), never joined to its
restart.
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
from acai_tf.reproduction.curve_reports import write

if __name__ == "__main__":
    run_curves(write, _ROOT)
