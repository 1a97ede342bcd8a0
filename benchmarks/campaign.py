"""The paper-budget campaign: every long run of a plan, one per core, across working periods.

    python benchmarks/campaign.py                          # run benchmarks/paper_budget.plan
    python benchmarks/campaign.py --status                 # what is done, running, waiting
    python benchmarks/campaign.py --plan=my.plan --cores=0 --state_dir=/data/campaign
    python benchmarks/campaign.py --precision=float32      # not bfloat16, even where native

Starts the plan's first jobs not yet done, one per core (--cores, default every core this process
may use), each pinned to its core, niced (--nice) with its scheduler autogroup, and starts the
next job on a core as soon as its job ends; see acai_tf/reproduction/campaign.py for the plan's
format and what STATE_DIR holds. Meanwhile the checkpoints of the MNIST runs at 1,024 and 4,096
kimg are kept in <workdir>/milestones/ and evaluated (linear probe, K-means with
--milestone_n_init restarts) one at a time beside the runs. Run it in the background, from a
clone of the repository that nothing else edits, with the data folder in the environment:

    cd ~/acai_runs/code/<commit> && ACAI_TFDS_DIR=... setsid python benchmarks/campaign.py \
        >> ~/acai_runs/campaign.log 2>&1 < /dev/null &

On a new machine (no ~/acai_runs), the same command takes the runs that the saved records
(--records_dir) show finished as done, and restores the workdir of every run whose record holds
a saved checkpoint before resuming it. Stop it with SIGTERM (or Ctrl-C): its jobs stop too and
resume at its next start. When it is killed outright, its jobs go on and the next campaign
adopts them. Pause the jobs while timing anything: `pkill -STOP -f benchmarks/reproduce_` and
`pkill -CONT -f benchmarks/reproduce_`. Save the runs' records with benchmarks/long_runs.py
(--due_checkpoints) at the end of every working period.
"""

from __future__ import annotations

import os
import sys

# Run as a script, only benchmarks/ is on sys.path; the library lives at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# pylint: disable=wrong-import-position
from absl import app, flags

from acai_tf.cli import runner
from acai_tf.outputs import text_tables
from acai_tf.reproduction import campaign, milestones
from acai_tf.reproduction.long_runs import runs_root

_HERE = os.path.dirname(os.path.abspath(__file__))


def define_flags() -> None:
    flags.DEFINE_string("plan", os.path.join(_HERE, "paper_budget.plan"), "The plan file.")
    flags.DEFINE_string("state_dir", None, "State and logs (default RUNS/campaign, RUNS being "
                        "$ACAI_RUNS_DIR or ~/acai_runs).")
    flags.DEFINE_list("cores", None, "CPU numbers, one job on each (default: every CPU this "
                      "process may run on).")
    flags.DEFINE_integer("nice", 10, "The jobs' nice value.", lower_bound=0, upper_bound=19)
    flags.DEFINE_list("milestone_workdirs", ["{runs}/mnist/runs/*/*/seed*"],
                      "Workdir patterns whose checkpoints at --milestone_steps are kept.")
    flags.DEFINE_list("milestone_steps", [str(step) for step in milestones.DEFAULT_STEPS],
                      "Steps of the kept checkpoints (at batch 64: 1,024 and 4,096 kimg).")
    flags.DEFINE_integer("milestone_n_init", 20, "K-means restarts for a kept checkpoint.",
                         lower_bound=1)
    flags.DEFINE_string("records_dir", os.path.join(_ROOT, "results", "runs"),
                        "The saved records: finished runs there are done, saved checkpoints "
                        "restore lost workdirs.")
    flags.DEFINE_enum("precision", "native", list(campaign.PRECISION_CHOICES),
                      "Every job's --precision; native: mixed_bfloat16 on a CPU with bfloat16 "
                      "instructions (AVX-512 BF16, AMX) and oneDNN on, float32 elsewhere. A run "
                      "switches as it moves between machines, and each start records its own.")
    flags.DEFINE_bool("status", False, "Print each job's status and exit.")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    fv = flags.FLAGS
    root = runs_root()
    with runner.one_line_errors():
        precision = campaign.resolve_precision(fv.precision)
        jobs = campaign.with_flags(campaign.read_plan(fv.plan, _HERE, runs_dir=root),
                                   [f"--precision={precision}"])
        cores = _integers("--cores", fv.cores) if fv.cores else sorted(os.sched_getaffinity(0))
        steps = _integers("--milestone_steps", fv.milestone_steps)
        state_dir = fv.state_dir or os.path.join(root, "campaign")
        run = campaign.Campaign(
            jobs, state_dir=state_dir, cores=cores, python=sys.executable, cwd=_ROOT,
            nice=fv.nice, milestone_globs=[pattern.replace("{runs}", root)
                                           for pattern in fv.milestone_workdirs],
            milestone_steps=steps, milestone_n_init=fv.milestone_n_init,
            records_dir=fv.records_dir or None, runs_dir=root,
            log=lambda line: print(f"{campaign.now()} {line}", flush=True))
        if fv.status:
            print("\n".join(text_tables.markdown(list(campaign.STATUS_HEADER),
                                                 campaign.status_table(jobs, run.state, root))))
            return
        print(f"{campaign.now()} jobs train in {precision} (--precision={fv.precision})",
              flush=True)
        sys.exit(run.run())


def _integers(name: str, values: list[str]) -> list[int]:
    try:
        return [int(value) for value in values]
    except ValueError:
        raise campaign.PlanError(f"{name} takes integers, got {','.join(values)}") from None


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=runner.parse_or_exit)
