r"""Writes the paper's run flagfiles, flags/runs/NAME.flags, from `acai_tf.reproduction.paper_runs`.

Usage (from the repo root, after changing the table):

    python -m flags.write_run_flags [--out_dir=flags/runs]

Every run of the table is (re)written; a flagfile whose run left the table is reported, not
deleted. tests/paper_runs_test.py checks that the committed flagfiles equal what this writes.
"""

import os

from absl import flags

from acai_tf.outputs import atomic_write
from acai_tf.reproduction import paper_runs
from acai_tf.cli import runner


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the flags in `flag_values` (at run time, not on import)."""
    flags.DEFINE_string("out_dir", os.path.join("flags", "runs"),
                        "Folder of the flagfiles.", flag_values=flag_values)


def main() -> None:
    out_dir = flags.FLAGS.out_dir
    os.makedirs(out_dir, exist_ok=True)
    for run in paper_runs.RUNS.values():
        atomic_write.write_text(os.path.join(out_dir, f"{run.name}.flags"), run.flagfile_text())
    stale = sorted(name for name in os.listdir(out_dir) if name.endswith(".flags")
                   and name.removesuffix(".flags") not in paper_runs.RUNS)
    print(f"wrote {len(paper_runs.RUNS)} flagfiles in {out_dir}"
          + (f"; not in the table: {', '.join(stale)}" if stale else ""))


def run() -> None:
    runner.run(__name__, main, define_flags=define_flags)


if __name__ == "__main__":
    run()
