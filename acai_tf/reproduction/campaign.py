"""A campaign: the paper-budget runs queued on the machine's cores, one run per core.

A plan is a text file, one job per line, in the order the jobs should start:

    # comments and blank lines are ignored
    mnist_acai_latent16_seed0  reproduce_mnist.py --models=acai --latents=16 --seeds=0 \\
                               --results_dir={runs}/mnist/results/acai_latent16

a unique name, then a script of the scripts folder (benchmarks/) and its flags; a trailing
backslash continues a line, and `{runs}` stands for the long runs' root. `Campaign.run`
starts the first jobs not yet done, one per core, each pinned to its core (one process per core
trains more images per hour than one process on every core: benchmarks/README.md), niced, in a
session of its own whose scheduler autogroup gets the same nice value (without it a niced run
still takes its group's fair share from interactive work). When a job ends another starts on
its core. The reproduction scripts resume an unfinished run and skip a finished one, so a job
interrupted by the end of a working period simply starts again next time.

While the runs train, the campaign also keeps the checkpoints the tables need at fixed steps
(`milestones.keep`) and evaluates each kept one in a process of its own, one at a time, beside
the runs.

A job's name is its run's record name (`mnist_acai_latent16_seed0`: benchmarks/long_runs.py),
with `@<kimg>` for a first stage that takes the run only that far. A new machine starts without
the runs' folder: the campaign then takes a job whose saved record has reached its kimg and
holds its final evaluation as done, and rebuilds the workdir of one whose record holds a saved
checkpoint (`long_runs.py --restore`) before starting it; any other starts from step 0.

Everything the campaign knows is in STATE_DIR (default ~/acai_runs/campaign): state.json (per
job: done, failed or running, with its core, process id, times and exit status; written
atomically after every change) and logs/<job>.log (each job's output, appended). A job that
fails is not retried until the next start of the campaign. Processes left running by a
campaign that was killed are adopted: they keep their core, and once they have ended their job
starts again (it then finds its run finished, or resumes it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import glob
import json
import os
import shlex
import signal
import subprocess
import time
from typing import Any, Callable, Sequence

from acai_tf.errors import UserError
from acai_tf.outputs import atomic_write
from acai_tf.reproduction import long_runs, milestones
from acai_tf.training import machine

DONE, FAILED, RUNNING = "done", "failed", "running"
# The prefix of a kept checkpoint's evaluation in state.json and in the logs folder.
EVALUATION = "evaluate"


class PlanError(UserError, ValueError):
    """A plan file that cannot be run as written."""


PAPER_KIMG = 16384.0  # a job's target unless its name says otherwise


@dataclasses.dataclass(frozen=True)
class Job:
    """One line of a plan: `argv` follows the Python executable (a script path and its flags).

    The name is the run's record name (benchmarks/long_runs.py: `mnist_acai_latent16_seed0`),
    with `@<kimg>` when the job takes the run only that far (a first stage).
    """
    name: str
    argv: tuple[str, ...]

    @property
    def record(self) -> str:
        """The run's record folder name."""
        return self.name.partition("@")[0]

    @property
    def target_kimg(self) -> float:
        """How far the job trains its run: the kimg after `@`, else the paper's 16,384."""
        stage = self.name.partition("@")[2]
        return float(stage) if stage else PAPER_KIMG


def read_plan(path: str, scripts_dir: str, *, runs_dir: str) -> list[Job]:
    """Parses a plan file; every script must exist in `scripts_dir` and names must be unique.

    `{runs}` in a flag stands for `runs_dir` (the long runs' root, outside any checkout).

    Raises:
        PlanError: naming the file and line.
    """
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as error:
        raise PlanError(f"cannot read plan {path}: {error.strerror or error}") from None
    jobs: list[Job] = []
    for number, line in _logical_lines(lines):
        try:
            words = shlex.split(line, comments=True)
        except ValueError as error:
            raise PlanError(f"{path}:{number}: {error}") from None
        if not words:
            continue
        where = f"{path}:{number}"
        if len(words) < 2:
            raise PlanError(f"{where}: expected '<name> <script> [flags]', got {line.strip()!r}")
        name, script = words[0], words[1]
        if any(job.name == name for job in jobs):
            raise PlanError(f"{where}: job name {name!r} appears twice")
        record, _, stage = name.partition("@")
        if not record or (stage and not stage.isdigit()):
            raise PlanError(f"{where}: a job name is <record>[@<kimg>], got {name!r}")
        if not os.path.isfile(os.path.join(scripts_dir, script)):
            raise PlanError(f"{where}: no script {script} in {scripts_dir}")
        jobs.append(Job(name, (os.path.join(scripts_dir, script),
                               *(word.replace("{runs}", runs_dir) for word in words[2:]))))
    if not jobs:
        raise PlanError(f"plan {path} holds no job")
    return jobs


# --precision of campaign.py: "native" is mixed_bfloat16 where the CPU computes in bfloat16
# (machine.native_bf16), float32 elsewhere, so that a run takes the faster one on each machine.
PRECISION_CHOICES = ("native", "float32", "mixed_bfloat16")


def resolve_precision(requested: str) -> str:
    """The precision jobs train in on this machine: `requested`, with "native" resolved."""
    if requested not in PRECISION_CHOICES:
        raise PlanError(f"precision must be one of {', '.join(PRECISION_CHOICES)}, "
                        f"got {requested!r}")
    if requested != "native":
        return requested
    return "mixed_bfloat16" if machine.native_bf16() else "float32"


def with_flags(jobs: Sequence[Job], extra: Sequence[str]) -> list[Job]:
    """The jobs with `extra` flags after their own (which they override: absl takes the last)."""
    return [Job(job.name, (*job.argv, *extra)) for job in jobs]


def _logical_lines(lines: Sequence[str]) -> list[tuple[int, str]]:
    """(first line number, text) of each line, a trailing backslash joining the next line."""
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, line in enumerate(lines, 1):
        if pending is not None:
            number, line = pending[0], pending[1] + " " + line
        pending = (number, line[:-1]) if line.endswith("\\") else None
        if pending is None:
            joined.append((number, line))
    if pending is not None:
        joined.append(pending)
    return joined


def now() -> str:
    """The UTC time as recorded in state.json."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pinned(core: int, nice: int) -> Callable[[], None]:
    """The child's set-up, run after its setsid: its core, its nice value and its autogroup's."""
    def setup() -> None:
        os.sched_setaffinity(0, {core})
        os.nice(nice)
        try:
            with open("/proc/self/autogroup", "w", encoding="ascii") as f:
                f.write(str(nice))
        except OSError:  # no autogroups (or not allowed): nice alone then
            pass
    return setup


def _command_line(pid: int) -> list[str] | None:
    """Process `pid`'s arguments, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return None


def _alive(pid: int, needle: str) -> bool:
    """Whether process `pid` exists and an argument of it contains `needle` (a reused pid runs
    something else)."""
    return any(needle in argument for argument in _command_line(pid) or [])


def _runs_job(pid: int, job: Job) -> bool:
    """Whether process `pid` runs `job`: its script, from whichever clone of the repository (a
    later campaign may start from a newer one), followed by exactly the job's flags."""
    arguments = _command_line(pid) or []
    script = os.path.basename(job.argv[0])
    return any(os.path.basename(argument) == script and arguments[i + 1:] == list(job.argv[1:])
               for i, argument in enumerate(arguments))


class Campaign:
    """Runs a plan's jobs on `cores`, one per core; see the module docstring.

    Args:
        jobs: the plan.
        state_dir: holds state.json and logs/.
        cores: the CPU numbers to use, one job on each.
        python: the interpreter of the jobs; cwd: their working directory (the repository).
        nice: the jobs' nice value (and their autogroups').
        milestone_globs: workdir patterns whose checkpoints at `milestone_steps` are kept and
            evaluated (K-means with `milestone_n_init` restarts).
        poll_s: seconds between looks at the jobs; milestone_poll_s: at the checkpoints.
        records_dir: the saved records (results/runs of the repository): a job whose record
            has reached its target kimg and holds its final evaluation is done whatever
            state.json says (a new machine has none); a job whose workdir is gone and whose
            record holds a saved checkpoint has its workdir restored from it first (with
            `runs_dir`, the long runs' root). None: state.json alone.
        log: receives one line per event.
    """

    def __init__(self, jobs: Sequence[Job], *, state_dir: str, cores: Sequence[int],
                 python: str, cwd: str, nice: int = 10, milestone_globs: Sequence[str] = (),
                 milestone_steps: Sequence[int] = milestones.DEFAULT_STEPS,
                 milestone_n_init: int = 20, poll_s: float = 5.0, milestone_poll_s: float = 60.0,
                 records_dir: str | None = None, runs_dir: str | None = None,
                 log: Callable[[str], None] = print) -> None:
        if not cores:
            raise UserError("a campaign needs at least one core")
        self.jobs, self.cores, self.python, self.cwd = list(jobs), list(cores), python, cwd
        self.nice, self.log = nice, log
        self.milestone_globs, self.milestone_steps = list(milestone_globs), list(milestone_steps)
        self.milestone_n_init = milestone_n_init
        self.poll_s, self.milestone_poll_s = poll_s, milestone_poll_s
        self.records_dir, self.runs_dir = records_dir, runs_dir
        self.state_dir = state_dir
        self.state_path = os.path.join(state_dir, "state.json")
        self.state: dict[str, dict[str, Any]] = self._load_state()
        self.running: dict[int, tuple[str, subprocess.Popen | int]] = {}  # core -> (name, proc)
        self.evaluating: tuple[str, str, int, subprocess.Popen] | None = None
        self.tried: set[str] = set()  # jobs started by this campaign (not retried after failing)
        self.stopping = False

    # -- state -------------------------------------------------------------------------------------
    def _load_state(self) -> dict[str, dict[str, Any]]:
        try:
            with open(self.state_path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise UserError(f"cannot read campaign state {self.state_path}: {error}") from None

    def _save_state(self) -> None:
        atomic_write.write_text(self.state_path, json.dumps(self.state, indent=1) + "\n")

    def _log_path(self, name: str) -> str:
        return os.path.join(self.state_dir, "logs", f"{name}.log")

    # -- jobs --------------------------------------------------------------------------------------
    def _start(self, argv: Sequence[str], name: str, core: int) -> subprocess.Popen:
        os.makedirs(os.path.dirname(self._log_path(name)), exist_ok=True)
        with open(self._log_path(name), "ab") as output:
            output.write(f"==== {now()} campaign starts {name} on core {core}\n".encode())
            output.flush()
            return subprocess.Popen(  # pylint: disable=subprocess-popen-preexec-fn
                [self.python, *argv], cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_pinned(core, self.nice))

    def _adopt(self) -> None:
        """Takes over the jobs an earlier (killed) campaign left running."""
        for job in self.jobs:
            entry = self.state.get(job.name, {})
            if entry.get("status") != RUNNING:
                continue
            pid, core = entry.get("pid"), entry.get("core")
            if (isinstance(pid, int) and core in self.cores and core not in self.running
                    and _runs_job(pid, job)):
                self.running[core] = (job.name, pid)
                entry["adopted"] = now()
                self.log(f"{job.name}: still running as process {pid} on core {core}; adopted")
            else:
                entry["status"] = "stopped"
        self._save_state()

    def _next_job(self) -> Job | None:
        busy = {name for name, _ in self.running.values()}
        for job in self.jobs:
            if (self.state.get(job.name, {}).get("status") != DONE and job.name not in busy
                    and job.name not in self.tried):
                if self._finished_in_records(job):
                    self.state[job.name] = {"status": DONE, "ended": now(),
                                            "source": "records"}
                    self._save_state()
                    self.log(f"{job.name}: done (its record has {job.target_kimg:g} kimg and "
                             "its final evaluation)")
                    continue
                return job
        return None

    def _finished_in_records(self, job: Job) -> bool:
        if self.records_dir is None:
            return False
        folder = os.path.join(self.records_dir, job.record)
        return (os.path.isfile(os.path.join(folder, "eval", "results.json"))
                and long_runs.last_kimg(folder) >= job.target_kimg)

    def _restore_command(self, job: Job) -> list[str] | None:
        """long_runs.py --restore for a job whose saved checkpoint's workdir is gone."""
        if self.records_dir is None or self.runs_dir is None:
            return None
        manifest = long_runs.read_manifest(os.path.join(self.records_dir, job.record))
        if manifest is None or os.path.exists(os.path.join(self.runs_dir, manifest["workdir"])):
            return None
        script = os.path.join(os.path.dirname(os.path.abspath(job.argv[0])), "long_runs.py")
        return [script, f"--restore={job.record}", f"--records_dir={self.records_dir}",
                f"--runs_dir={self.runs_dir}"]

    def _reap(self) -> None:
        for core, (name, process) in list(self.running.items()):
            if isinstance(process, int):  # adopted: no exit status to read
                if _runs_job(process, self._job(name)):
                    continue
                status = None
            else:
                status = process.poll()
                if status is None:
                    continue
            del self.running[core]
            entry = self.state.setdefault(name, {})
            entry.update(ended=now(), exit_status=status)
            if status is None:
                entry["status"] = "stopped"  # started again below: it resumes or skips its run
                self.log(f"{name}: adopted process ended on core {core}; starting it again")
            elif self.stopping:
                entry["status"] = "stopped"
                self.log(f"{name}: stopped on core {core}")
            else:
                entry["status"] = DONE if status == 0 else FAILED
                self.tried.add(name)
                self.log(f"{name}: {entry['status']} (exit status {status}) on core {core}; "
                         f"log {self._log_path(name)}")
            self._save_state()

    def _job(self, name: str) -> Job:
        return next(job for job in self.jobs if job.name == name)

    def _fill_cores(self) -> None:
        for core in self.cores:
            if core in self.running or self.stopping:
                continue
            job = self._next_job()
            if job is None:
                return
            restore = self._restore_command(job)
            if restore is not None:
                self.log(f"{job.name}: workdir gone; restoring it from its saved checkpoint")
                status = self._start(restore, job.name, core).wait()
                if status != 0:
                    self.tried.add(job.name)
                    self.state[job.name] = {"status": FAILED, "ended": now(),
                                            "exit_status": status, "source": "restore"}
                    self._save_state()
                    self.log(f"{job.name}: failed to restore (exit status {status}); log "
                             f"{self._log_path(job.name)}")
                    continue
            process = self._start(job.argv, job.name, core)
            self.running[core] = (job.name, process)
            self.tried.add(job.name)
            self.state[job.name] = {"status": RUNNING, "core": core, "pid": process.pid,
                                    "started": now(), "command": shlex.join(job.argv)}
            self._save_state()
            self.log(f"{job.name}: started on core {core} (process {process.pid}); "
                     f"log {self._log_path(job.name)}")

    # -- kept checkpoints --------------------------------------------------------------------------
    def _workdirs(self) -> list[str]:
        found = {path for pattern in self.milestone_globs for path in glob.glob(pattern)}
        return sorted(path for path in found if os.path.isdir(path))

    def _keep_milestones(self) -> None:
        for workdir in self._workdirs():
            for step in milestones.keep(workdir, self.milestone_steps):
                self.log(f"kept {milestones.checkpoint_prefix(workdir, step)}")

    def _evaluation_name(self, workdir: str, step: int) -> str:
        return f"{EVALUATION}-{workdir.strip(os.sep).replace(os.sep, '_')}-ckpt-{step}"

    def _evaluate_next(self) -> None:
        """Finishes the running evaluation if it has ended, else starts the next one."""
        if self.evaluating is not None:
            name, workdir, step, process = self.evaluating
            if process.poll() is None:
                return
            self.evaluating = None
            entry = self.state.setdefault(name, {})
            entry.update(ended=now(), exit_status=process.returncode)
            try:
                if process.returncode != 0:
                    raise OSError(f"exit status {process.returncode}")
                entry.update(status=DONE, results=milestones.finish_evaluation(workdir, step))
                self.log(f"evaluated {milestones.checkpoint_prefix(workdir, step)}: "
                         f"{entry['results']}")
            except OSError as error:
                entry["status"] = "stopped" if self.stopping else FAILED
                self.log(f"{name}: failed ({error}); log {self._log_path(name)}")
            self._save_state()
        if self.stopping:
            return
        for workdir in self._workdirs():
            for step in milestones.unevaluated(workdir):
                name = self._evaluation_name(workdir, step)
                if name in self.tried:
                    continue
                self.tried.add(name)
                scratch = milestones.prepare_evaluation(workdir, step)
                core = self.cores[-1]
                process = self._start(
                    milestones.evaluation_command(scratch, n_init=self.milestone_n_init),
                    name, core)
                self.evaluating = (name, workdir, step, process)
                self.state[name] = {"status": RUNNING, "core": core, "pid": process.pid,
                                    "started": now()}
                self._save_state()
                self.log(f"{name}: started on core {core} (process {process.pid})")
                return

    # -- the loop ----------------------------------------------------------------------------------
    def _lock_path(self) -> str:
        return os.path.join(self.state_dir, "campaign.pid")

    def _lock(self) -> None:
        """Refuses to start beside another live campaign on the same state folder."""
        try:
            with open(self._lock_path(), encoding="ascii") as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            pid = 0
        if pid and pid != os.getpid() and _alive(pid, "campaign"):
            raise UserError(f"a campaign already runs on {self.state_dir} (process {pid})")
        atomic_write.write_text(self._lock_path(), f"{os.getpid()}\n")

    # -- stopping and the loop ---------------------------------------------------------------------
    def _stop(self, signum: int, _frame: Any) -> None:
        self.stopping = True
        self.log(f"signal {signum}: stopping the jobs (each resumes at the next start)")
        for _, process in list(self.running.values()) + (
                [(None, self.evaluating[3])] if self.evaluating else []):
            pid = process if isinstance(process, int) else process.pid
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                pass

    def run(self) -> int:
        """Runs every job not done; returns 0 when all are done, 1 if one failed or stopped."""
        self._lock()
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._adopt()
            last_milestones = -float("inf")
            while True:
                self._reap()
                if self.milestone_globs and time.monotonic() - last_milestones >= \
                        self.milestone_poll_s:
                    last_milestones = time.monotonic()
                    self._keep_milestones()
                    self._evaluate_next()
                elif self.evaluating is not None:
                    self._evaluate_next()
                self._fill_cores()
                if not self.running and self.evaluating is None:
                    break
                time.sleep(self.poll_s)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            with contextlib.suppress(OSError):
                os.remove(self._lock_path())
        statuses = [self.state.get(job.name, {}).get("status") for job in self.jobs]
        self.log(f"campaign: {statuses.count(DONE)} of {len(self.jobs)} jobs done")
        return 0 if all(status == DONE for status in statuses) else 1


STATUS_HEADER = ("job", "status", "kimg", "target (kimg)", "core", "started", "ended")


def status_table(jobs: Sequence[Job], state: dict[str, dict[str, Any]],
                 runs_dir: str) -> list[list[str]]:
    """Rows of STATUS_HEADER for every job of the plan, in order: its state and how far its run
    has trained (the last report of its workdir below `runs_dir`; "-" without a workdir)."""
    workdirs = {long_runs.record_name(runs_dir, workdir): workdir
                for workdir in (long_runs.find_workdirs(runs_dir)
                                if os.path.isdir(runs_dir) else [])}
    rows = []
    for job in jobs:
        entry = state.get(job.name, {})
        workdir = workdirs.get(job.record)
        rows.append([job.name, entry.get("status", "pending"),
                     f"{long_runs.last_kimg(workdir):g}" if workdir else "-",
                     f"{job.target_kimg:g}", str(entry.get("core", "-")),
                     entry.get("started", "-"), entry.get("ended", "-")])
    return rows
