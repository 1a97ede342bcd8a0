"""Tables 2 and 3 on MNIST at the paper's budget, from the long runs' saved records.

    python benchmarks/mnist_budget_tables.py        # results/runs -> results/paper_budget/
    python benchmarks/mnist_budget_tables.py --records_dir=results/runs \
        --out_dir=results/paper_budget

Reads the records that benchmarks/long_runs.py saves for the MNIST runs
(`mnist_<model>_latent<L>_seed<k>/`; `.lost-*` folders are left out) and writes into --out_dir
(see acai_tf/reproduction/mnist_budget_tables.py):

- mnist_tables.md: a header (budget, runs still training, precision and CPU of each run, the
  records' folder), Table 2 (the in-training classifier by the paper's protocol, the median of
  the last 20 reports, and the linear probe of the newest evaluated checkpoint) and Table 3
  (K-means at every evaluated checkpoint); every cell names its kimg, a K-means cell its
  restarts;
- mnist_table.csv: the same cells in long format (table, model, latent_dim, seed, value, kimg,
  n_init, reports, run_kimg, train_kimg).

Then `python benchmarks/update_readme.py` copies them into the README and docs/reproduction.md.
Bad input (a missing records folder, no MNIST record): one line `error: ...`, exit status 1.
"""

from __future__ import annotations

import os
import shlex
import sys

# Run as a script, only benchmarks/ is on sys.path; the library lives at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# pylint: disable=wrong-import-position
from absl import app, flags

from acai_tf.cli import runner
from acai_tf.reproduction import mnist_budget_tables

def shown(path: str) -> str:
    """`path` relative to the repository when inside it (the header names no home folder)."""
    relative = os.path.relpath(os.path.abspath(path), _ROOT)
    return path if relative.startswith(os.pardir) else relative


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    records_dir = flags.FLAGS.records_dir
    with runner.one_line_errors():
        paths = mnist_budget_tables.write(records_dir, flags.FLAGS.out_dir,
                                          source=shown(records_dir),
                                          command=shlex.join(["python", *sys.argv]))
    print(f"wrote {', '.join(paths)}")


if __name__ == "__main__":
    flags.DEFINE_string("records_dir", os.path.join(_ROOT, "results", "runs"),
                        "The saved records (benchmarks/long_runs.py).")
    flags.DEFINE_string("out_dir", os.path.join(_ROOT, "results", "paper_budget"),
                        "Where mnist_tables.md and mnist_table.csv go.")
    app.run(main, flags_parser=runner.parse_or_exit)
