"""Writes the paper's tables (Markdown and CSV) and a side-by-side figure for several runs.

Usage (from the repo root):

    python -m flags.report --workdirs='out/lines32_*' --output_dir=out/report
    python -m flags.report --workdirs=W1,W2,W3 --output_dir=O --missing=skip

--workdirs takes comma-separated workdirs or glob patterns (quote them). Runs are grouped by
dataset, model and latent dim; cells are mean ± std over the runs of a group. Only the runs' records
are read (config.json, eval/results.json, metrics.jsonl; see acai_tf.reproduction.run_records): a
run without eval/results.json is an error naming the `evaluate` command that writes it, unless
--missing=skip (use only its training-time evaluations). Bad input is reported as one line,
`error: ...`, with exit status 1.
"""

import glob
import os
import sys

from absl import flags

from acai_tf.reproduction import paper_tables, run_records
from acai_tf.cli import runner


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the report flags in `flag_values` (at run time, not on import)."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_list("workdirs", None, "Workdirs or glob patterns, comma-separated.", **fv)
    flags.DEFINE_string("output_dir", None, "Where the tables and figures go.", **fv)
    flags.DEFINE_integer("last_n", 20, "Training-time evaluations whose median stands for a "
                         "run (the paper: 20).", lower_bound=1, **fv)
    flags.DEFINE_enum("missing", "error", list(run_records.MISSING_POLICIES),
                      "What to do with a run that has no eval/results.json.", **fv)


def expand_workdirs(patterns: list[str]) -> list[str]:
    """Workdirs from names and glob patterns, in order, without duplicates.

    Raises:
        run_records.ReportError: a pattern matches no directory.
    """
    workdirs: list[str] = []
    for pattern in patterns:
        matches = sorted(path for path in glob.glob(pattern) if os.path.isdir(path))
        if not matches:
            raise run_records.ReportError(f"--workdirs: {pattern!r} matches no directory")
        workdirs += [path for path in matches if path not in workdirs]
    return workdirs


def report_from_flags(flag_values: flags.FlagValues) -> int:
    """Writes the report the parsed flags describe; returns the exit status."""
    return runner.exit_status(lambda: _report(flag_values))


def _report(fv: flags.FlagValues) -> None:
    runs = run_records.collect_runs(expand_workdirs(fv.workdirs), last_n=fv.last_n,
                                    missing=fv.missing)
    for warning in run_records.group_warnings(runs):
        print(f"warning: {warning}", file=sys.stderr)
    written = paper_tables.write_report(runs, fv.output_dir)
    print(f"{len(runs)} run(s) in {len(run_records.groups(runs))} group(s); wrote "
          f"{', '.join(os.path.basename(path) for path in written)} to {fv.output_dir}")


def main() -> None:
    sys.exit(report_from_flags(flags.FLAGS))


def run() -> None:
    runner.run(__name__, main, define_flags=define_flags, required=("workdirs", "output_dir"))


if __name__ == "__main__":
    run()
