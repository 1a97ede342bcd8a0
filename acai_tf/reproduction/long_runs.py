"""Long runs live outside the checkout; their small text records are saved into it.

The reproduction commands keep their runs under `~/acai_runs` (or `$ACAI_RUNS_DIR`), where a
fresh clone or `make clean` cannot lose them. `save_all` copies what the tables and curves read
(RECORD_FILES) of every workdir there into RECORDS_DIR/<name>/ without ever splicing the curves
of two runs (a workdir is identified by its first start), optionally with the newest checkpoint
(`resume_checkpoints`), and rewrites RECORDS_DIR/index.md. The command, and the rules it
follows, are `benchmarks/long_runs.py`'s.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any, Sequence

from acai_tf.outputs import atomic_write, text_tables
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.reproduction import run_records
from acai_tf.reproduction.resume_checkpoints import (  # noqa: F401  (part of this module's API)
    CHECKPOINT_STATE, KIMG, RECORD_FILES, RESUME_DIR, RESUME_MANIFEST, RecordsError,
    newest_checkpoint, read_manifest, restore, save_checkpoint, sha256)
from acai_tf.training import metrics_log

RUNS_DIR_ENV = "ACAI_RUNS_DIR"
LOST_MARK = ".lost-"


def runs_root() -> str:
    """Where long runs live: $ACAI_RUNS_DIR, else ~/acai_runs (outside any checkout)."""
    return os.path.expanduser(os.environ.get(RUNS_DIR_ENV) or "~/acai_runs")


def default_out_dir(name: str) -> str:
    """A reproduction's default --out_dir: RUNS_ROOT/<name> (e.g. ~/acai_runs/lines)."""
    return os.path.join(runs_root(), name)


def find_workdirs(runs_dir: str) -> list[str]:
    """Every folder below runs_dir holding a config.json, a metrics.jsonl and a ckpt/ folder,
    sorted.

    The checkpoint folder is what tells a run's workdir from saved records of one: a copy of a
    checkout kept under the root (a code snapshot that long runs train from) holds
    results/runs/<record>/ folders with the same two files, and those are not runs.
    """
    found = []
    for folder, subfolders, files in os.walk(runs_dir):
        if ("config.json" in files and metrics_log.FILENAME in files
                and workdir_lib.CHECKPOINT_DIR in subfolders):
            found.append(folder)
            subfolders[:] = []  # checkpoints and logs below a workdir hold no run
    return sorted(found)


def record_name(runs_dir: str, workdir: str) -> str:
    """lines/runs/acai/seed0 -> lines_acai_seed0 (path below runs_dir, `runs` left out)."""
    parts = os.path.relpath(workdir, runs_dir).split(os.sep)
    return "_".join(part for part in parts if part != "runs")


def first_start(folder: str) -> str:
    """The `started` time of the first start of the run whose config.json is in `folder`."""
    path = os.path.join(folder, "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            starts = json.load(f).get("runs") or []
        return str(starts[0]["started"])
    except (OSError, ValueError, LookupError, AttributeError, TypeError):
        raise RecordsError(f"{path} has no start record (runs[0].started)") from None


def last_kimg(folder: str) -> float:
    """The kimg of the last report in folder/metrics.jsonl (0 without reports)."""
    records = metrics_log.read(folder)
    return float(records[-1]["kimg"]) if records else 0.0


def check(workdir: str, destination: str, *, restarted: bool = False) -> None:
    """Raises RecordsError unless saving workdir's records into destination splices nothing.

    Refused: saved records of another start (the workdir was lost and its run restarted from
    step 0) unless `restarted`, and a workdir behind its saved records.
    """
    started = first_start(workdir)
    if not os.path.isdir(destination):
        return
    saved_start, name = first_start(destination), os.path.basename(destination)
    if saved_start != started:
        if not restarted:
            raise RecordsError(
                f"{workdir} was restarted from step 0 (started {started}) but the saved records "
                f"of {name} come from the run started {saved_start}: pass --restarted={name} to "
                f"keep them as {name}{LOST_MARK}... and save the new ones")
    elif (now := last_kimg(workdir)) < (saved := last_kimg(destination)):
        raise RecordsError(f"{workdir} is at {now:g} kimg, behind its saved records "
                           f"({saved:g} kimg): was it restored from an older copy?")


# Evaluations of kept checkpoints, `<workdir>/milestones/<checkpoint>.json` (eval/results.json
# of each), saved beside the records.
MILESTONES_DIR = "milestones"


# When a saved checkpoint is worth its place in git's history for good: a run with more than
# about MIN_HOURS_LEFT of training left, once it has gained MIN_GAIN_KIMG since the checkpoint
# saved last (or since step 0). A shorter run that loses its workdir restarts from step 0.
MIN_HOURS_LEFT = 4.0
MIN_GAIN_KIMG = 4096.0


def checkpoint_due(workdir: str, destination: str, images_per_second: float | None) -> str | None:
    """Why the run's newest checkpoint should not be saved now; None when it is due.

    Args:
        workdir: the run's workdir; destination: its records folder (with any saved checkpoint).
        images_per_second: the run's recent rate, for the hours it has left (None: unknown,
            not due).
    """
    with open(workdir_lib.config_path(workdir), encoding="utf-8") as f:
        budget = float(json.load(f)["train"]["train_kimg"])
    kimg = last_kimg(workdir)
    manifest = read_manifest(destination) if os.path.isdir(destination) else None
    gained = kimg - (manifest["kimg"] if manifest else 0.0)
    if gained < MIN_GAIN_KIMG:
        since = f"its checkpoint saved at {manifest['kimg']:g} kimg" if manifest else "step 0"
        return f"{gained:g} kimg gained since {since} (saved every {MIN_GAIN_KIMG:g})"
    if not images_per_second:
        return "no recent rate to tell the hours left"
    hours_left = (budget - kimg) * 1024 / images_per_second / 3600
    if hours_left <= MIN_HOURS_LEFT:
        return (f"{hours_left:.1f} h left at {images_per_second:.0f} images/s (saved only with "
                f"more than {MIN_HOURS_LEFT:g} h left: a restart from step 0 costs less)")
    return None


def save(workdir: str, destination: str, *, restarted: bool = False,
         checkpoint_as: str | None = None, only_due: bool = False) -> dict[str, Any]:
    """Copies the run's RECORD_FILES into `destination` once `check` passes.

    Args:
        workdir: the run's workdir.
        destination: its records folder.
        restarted: the run was restarted from step 0 (see `check`).
        checkpoint_as: also save the newest checkpoint (`save_checkpoint`), to be restored at
            this path below the runs root; None saves no checkpoint.
        only_due: with checkpoint_as, save the checkpoint only when `checkpoint_due` says so.

    Returns:
        {"before_kimg", "kimg", "images_per_second" (median over the reports new since the last
        save; None without any), "lost": the folder the old records were moved to, or None,
        "checkpoint_step": the step of the checkpoint saved now, or None, "not_due": why
        `only_due` saved none, or None}.

    Raises:
        RecordsError: as `check`.
    """
    check(workdir, destination, restarted=restarted)
    before, lost = 0.0, None
    if os.path.isdir(destination):
        saved_start = first_start(destination)
        if saved_start == first_start(workdir):
            before = last_kimg(destination)
        else:  # a restarted run: the old records move aside, never merged with the new
            lost = f"{destination}{LOST_MARK}{''.join(c for c in saved_start if c.isalnum())}"
            os.rename(destination, lost)
            # Its restart has taken the workdir's place: the old checkpoint can never resume.
            shutil.rmtree(os.path.join(lost, RESUME_DIR), ignore_errors=True)
    for relative in RECORD_FILES:
        source = os.path.join(workdir, relative)
        if os.path.isfile(source):
            target = os.path.join(destination, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(source, "rb") as f, atomic_write.replacing(target, "wb") as out:
                shutil.copyfileobj(f, out)
    # Evaluations of checkpoints kept at chosen kimg (Table 3 as a curve), when there are any.
    milestones = os.path.join(workdir, MILESTONES_DIR)
    for name in sorted(os.listdir(milestones)) if os.path.isdir(milestones) else []:
        if name.endswith(".json"):
            with open(os.path.join(milestones, name), "rb") as f, atomic_write.replacing(
                    os.path.join(destination, MILESTONES_DIR, name), "wb") as out:
                shutil.copyfileobj(f, out)
    new = [record["monitors/images_per_second"] for record in metrics_log.read(workdir)
           if record["kimg"] > before and "monitors/images_per_second" in record]
    rate = sorted(new)[len(new) // 2] if new else None
    not_due = checkpoint_due(workdir, destination, rate) if checkpoint_as and only_due else None
    step = save_checkpoint(workdir, destination, checkpoint_as) if (
        checkpoint_as and not_due is None) else None
    return {"before_kimg": before, "kimg": last_kimg(workdir), "lost": lost,
            "images_per_second": rate, "checkpoint_step": step, "not_due": not_due}


def save_all(runs_dir: str, records_dir: str, *, restarted: Sequence[str] = (),
             checkpoints: bool | str = False) -> dict[str, dict[str, Any]]:
    """`save` for every workdir below runs_dir, then RECORDS_DIR/index.md.

    `checkpoints`: True also saves every run's newest checkpoint; "due" only those that
    `checkpoint_due` allows; False none.

    Every workdir is checked before any is written, so a refused one changes nothing.
    """
    if not os.path.isdir(runs_dir):
        raise RecordsError(f"{runs_dir} does not exist: no long runs to save")
    workdirs = {record_name(runs_dir, workdir): workdir for workdir in find_workdirs(runs_dir)}
    unknown = sorted(set(restarted) - set(workdirs))
    if unknown:
        raise RecordsError(f"--restarted names no run below {runs_dir}: {', '.join(unknown)}")
    for name, workdir in workdirs.items():
        check(workdir, os.path.join(records_dir, name), restarted=name in restarted)
    saved = {name: save(workdir, os.path.join(records_dir, name), restarted=name in restarted,
                        checkpoint_as=os.path.relpath(workdir, runs_dir) if checkpoints else None,
                        only_due=checkpoints == "due")
             for name, workdir in workdirs.items()}
    atomic_write.write_text(os.path.join(records_dir, "index.md"), index(records_dir))
    return saved


def training_hours(reports: Sequence[dict[str, Any]]) -> tuple[float, float | None]:
    """(hours spent training, median images/s of the last 20 reports) from a run's reports.

    Each report's images/s covers the kimg since the one before, so the hours are the sum of
    kimg gained x 1024 / images/s: the time the train steps took, without the evaluations and
    without the pauses between working periods. Reports without a rate add nothing.
    """
    hours, previous, rates = 0.0, 0.0, []
    for report in reports:
        rate = report.get("monitors/images_per_second")
        if rate:
            hours += max(0.0, report["kimg"] - previous) * 1024 / rate / 3600
            rates.append(rate)
        previous = report["kimg"]
    last = sorted(rates[-20:])
    return hours, (last[len(last) // 2] if last else None)


def machines(starts: Sequence[dict[str, Any]]) -> str:
    """The CPU class of each start in order, repeats merged: "AMD EPYC avx2 (on)"."""
    classes = []
    for start in starts:
        if "cpu" not in start:
            continue
        flags = " ".join(start.get("cpu_flags") or []) or "no AVX-512"
        onednn = {True: "on", False: "off"}.get(start.get("onednn"), "?")
        classes.append(f"{start['cpu']} {flags} ({onednn})")
    return ", ".join(dict.fromkeys(classes)) or "?"


def index(records_dir: str) -> str:
    """RECORDS_DIR/index.md: one row per saved run (lost ones included)."""
    rows = ["# Long runs: saved records", "",
            "Written by `python benchmarks/long_runs.py`; one folder per run, copied from the run's "
            "workdir (see benchmarks/long_runs.py). `.lost-<start>` folders hold the records of a "
            "run whose workdir was lost; its run was restarted from step 0 in the folder without "
            "the suffix. `checkpoint`: the kimg of the checkpoint saved in its `resume/` folder "
            "(`--checkpoints`), from which `--restore` rebuilds a lost workdir.", ""]
    cells = []
    for name in sorted(os.listdir(records_dir)):
        folder = os.path.join(records_dir, name)
        if not os.path.isfile(os.path.join(folder, "config.json")):
            continue
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        train, starts = config.get("train", {}), config.get("runs") or [{}]
        commits = list(dict.fromkeys(str(start.get("commit")) for start in starts))
        reports = metrics_log.read(folder)
        kimg = reports[-1]["kimg"] if reports else 0.0
        manifest = read_manifest(folder)
        checkpoint = f"{manifest['kimg']:g}" if manifest else "-"
        hours, rate = training_hours(reports)
        cells.append([name, config.get("model", {}).get("name", "?"), f"{kimg:g}",
                      f"{train.get('train_kimg', '?'):g}", len(reports), f"{hours:.1f}",
                      f"{rate:.0f}" if rate else "-", machines(starts),
                      run_records.precision_history(train, config.get("runs") or []),
                      starts[0].get("started", "?"),
                      ", ".join(commits), checkpoint])
    rows += text_tables.markdown(
        ["record", "model", "kimg", "budget (kimg)", "reports", "training hours",
         "images/s (last 20)", "CPU (oneDNN)", "precision", "started", "commits",
         "checkpoint (kimg)"], cells)
    return "\n".join(rows) + "\n"
