"""Long runs live outside the checkout; their small text records are saved into it.

    python benchmarks/long_runs.py                      # save every run's records, print progress
    python benchmarks/long_runs.py --checkpoints        # ... and each run's newest checkpoint
    python benchmarks/long_runs.py --due_checkpoints    # ... of the runs that need a new one
    python benchmarks/long_runs.py --runs_dir=/data/acai_runs --records_dir=results/runs
    python benchmarks/long_runs.py --restore=lines_acai_seed0    # rebuild a lost workdir
    python benchmarks/long_runs.py --restarted=lines_acai_seed0  # it was restarted from step 0

A paper-budget run (16,384 kimg) takes longer than one working period, so the reproduction
commands keep their runs under a folder outside any checkout: `~/acai_runs` (or
`$ACAI_RUNS_DIR`), where a fresh clone or `make clean` cannot lose them, and resume them when run
again. What the tables and curves read is copied into the repository by this command after
every working period, so the curves survive even when the workdir does not:

    RUNS_DIR/lines/runs/acai/seed0/{config.json, metrics.jsonl, eval/results.json}
      -> RECORDS_DIR/lines_acai_seed0/{config.json, metrics.jsonl, eval/results.json}

A record's name is the workdir's path below RUNS_DIR with the `runs` folders left out and `_`
between the parts. Curves of two different runs are never spliced: a workdir is identified by
its first start (config.json's first `runs` record, the start from step 0). If the saved records
come from another start, the workdir was lost and its run restarted from step 0: saving then
fails with a one-line error until `--restarted=NAME` says so, which keeps the old records as
`NAME.lost-<start>` beside the new ones. A workdir behind its saved records (restored from an
older copy) is refused as well. Every save also rewrites RECORDS_DIR/index.md (one row per run:
kimg, budget, reports, commits) and prints what each run gained since the last save.

A workdir outside the checkout is still lost with its machine. `--checkpoints` therefore also
saves each run's newest checkpoint (model, critic and every optimizer slot: about 19 MB for ACAI
on lines32, which does not compress) with a manifest of its sizes and SHA-256 sums:

    RUNS_DIR/lines/runs/acai/seed0/ckpt/ckpt-86016.{index, data-00000-of-00001}
      -> RECORDS_DIR/lines_acai_seed0/resume/{resume.json, ckpt-86016.index, ...}

replacing the one saved before (git history keeps every saved version, so save it once per
working period, at its end). `--due_checkpoints` saves one only where it is worth its place in
the history for good: a run with more than 4 hours of training left (at its recent images/s)
that has gained 4,096 kimg since its saved checkpoint (or step 0); each other run says why not. `--restore=NAME` rebuilds the lost workdir from those files (config,
reports, checkpoint; not the TensorBoard events, whose scalars metrics.jsonl repeats), and the
reproduction command, run again, resumes it from that checkpoint instead of restarting it from
step 0. Reports the lost workdir made after that checkpoint are made again and replace the saved
ones (metrics_log keeps the last line of each step).
"""

from __future__ import annotations

import os
import sys

# Run as a script, only benchmarks/ is on sys.path; the library lives at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow (acai_tf.cli does): its C++ banner would bury the one-line
# errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
from absl import app, flags

from acai_tf.cli import runner
from acai_tf.reproduction.long_runs import (RESUME_DIR, RUNS_DIR_ENV, restore, runs_root,
                                            save_all)


def define_flags() -> None:
    flags.DEFINE_string("runs_dir", None, f"The long runs' root (default ${RUNS_DIR_ENV}, else "
                        "~/acai_runs).")
    flags.DEFINE_string("records_dir", os.path.join(_ROOT, "results", "runs"),
                        "Where the records are saved.")
    flags.DEFINE_list("restarted", [], "Runs whose workdir was lost and restarted from step 0.")
    flags.DEFINE_bool("checkpoints", False, "Also save each run's newest checkpoint into "
                      f"RECORDS_DIR/<name>/{RESUME_DIR}/ (about 19 MB for ACAI on lines32).")
    flags.DEFINE_bool("due_checkpoints", False, "Like --checkpoints, for the runs whose "
                      "checkpoint is due: more than 4 h left and 4,096 kimg gained since the "
                      "saved one (the others say why not).")
    flags.DEFINE_list("restore", [], "Rebuild these runs' lost workdirs from their records and "
                      "saved checkpoints (and save nothing).")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    fv = flags.FLAGS
    runs_dir = fv.runs_dir or runs_root()
    if fv.restore:
        if fv.restarted or fv.checkpoints or fv.due_checkpoints:
            runner.fail("--restore saves nothing: it takes no --restarted or --checkpoints")
        with runner.one_line_errors():
            for name in fv.restore:
                workdir, step = restore(fv.records_dir, runs_dir, name)
                print(f"restored {name} into {workdir} at step {step}: rerun its command to "
                      "resume it")
        return
    with runner.one_line_errors():
        if fv.checkpoints and fv.due_checkpoints:
            runner.fail("give --checkpoints (every run's) or --due_checkpoints, not both")
        saved = save_all(runs_dir, fv.records_dir, restarted=fv.restarted,
                         checkpoints="due" if fv.due_checkpoints else fv.checkpoints)
    for name, entry in saved.items():
        rate = entry["images_per_second"]
        line = (f"{name}: {entry['before_kimg']:g} -> {entry['kimg']:g} kimg "
                f"(+{entry['kimg'] - entry['before_kimg']:g})"
                + (f", median {rate:.0f} images/s over the new reports" if rate else ""))
        line += f"; checkpoint of step {entry['checkpoint_step']} saved" if entry[
            "checkpoint_step"] is not None else ""
        line += f"; checkpoint not due: {entry['not_due']}" if entry["not_due"] else ""
        print(line + (f"; old records kept in {entry['lost']}" if entry["lost"] else ""))
    print(f"saved {len(saved)} run(s) from {runs_dir} into {fv.records_dir}")


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=runner.parse_or_exit)
