"""Long runs live outside the checkout; their small text records are saved into it.

    python benchmarks/long_runs.py                      # save every run's records, print progress
    python benchmarks/long_runs.py --checkpoints        # ... and each run's newest checkpoint
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
working period, at its end). `--restore=NAME` rebuilds the lost workdir from those files (config,
reports, checkpoint; not the TensorBoard events, whose scalars metrics.jsonl repeats), and the
reproduction command, run again, resumes it from that checkpoint instead of restarting it from
step 0. Reports the lost workdir made after that checkpoint are made again and replace the saved
ones (metrics_log keeps the last line of each step).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from typing import Any, Sequence

# Run as a script, only benchmarks/ is on sys.path; the library lives at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# pylint: disable=wrong-import-position
from absl import app, flags

from acai_tf.outputs import atomic_write, checkpoints, text_tables
from acai_tf.training import metrics_log
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.cli import runner
from acai_tf.errors import UserError

RUNS_DIR_ENV = "ACAI_RUNS_DIR"
RECORD_FILES = ("config.json", "metrics.jsonl", os.path.join("eval", "results.json"))
LOST_MARK = ".lost-"
RESUME_DIR = "resume"
RESUME_MANIFEST = "resume.json"
# The checkpoint state file CheckpointManager writes once a checkpoint is complete.
CHECKPOINT_STATE = "checkpoint"
KIMG = 1024  # images per kimg, as the trainer counts them


class RecordsError(UserError, RuntimeError):
    """Records cannot be saved as asked; the message is one line."""


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


def save(workdir: str, destination: str, *, restarted: bool = False,
         checkpoint_as: str | None = None) -> dict[str, Any]:
    """Copies the run's RECORD_FILES into `destination` once `check` passes.

    Args:
        workdir: the run's workdir.
        destination: its records folder.
        restarted: the run was restarted from step 0 (see `check`).
        checkpoint_as: also save the newest checkpoint (`save_checkpoint`), to be restored at
            this path below the runs root; None saves no checkpoint.

    Returns:
        {"before_kimg", "kimg", "images_per_second" (median over the reports new since the last
        save; None without any), "lost": the folder the old records were moved to, or None,
        "checkpoint_step": the step of the checkpoint saved now, or None}.

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
    new = [record["monitors/images_per_second"] for record in metrics_log.read(workdir)
           if record["kimg"] > before and "monitors/images_per_second" in record]
    step = save_checkpoint(workdir, destination, checkpoint_as) if checkpoint_as else None
    return {"before_kimg": before, "kimg": last_kimg(workdir), "lost": lost,
            "images_per_second": sorted(new)[len(new) // 2] if new else None,
            "checkpoint_step": step}


def newest_checkpoint(workdir: str) -> str | None:
    """The prefix name ("ckpt-<step>") of the newest complete checkpoint in workdir/ckpt, as its
    checkpoint state file names it; None without one.

    Read as text rather than with tf.train.latest_checkpoint: saving records imports no
    TensorFlow."""
    try:
        with open(os.path.join(workdir, workdir_lib.CHECKPOINT_DIR, CHECKPOINT_STATE),
                  encoding="utf-8") as f:
            match = re.search(r'^model_checkpoint_path: "(?:.*/)?([^"/]+)"$', f.read(), re.M)
    except FileNotFoundError:
        return None
    return match[1] if match else None


def checkpoint_files(folder: str, prefix: str) -> list[str]:
    """The files of checkpoint `prefix` in folder: its .index and every data shard, sorted."""
    return sorted(name for name in os.listdir(folder) if name == f"{prefix}.index"
                  or re.fullmatch(re.escape(prefix) + r"\.data-\d+-of-\d+", name))


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(records: str) -> dict[str, Any] | None:
    """records/resume/resume.json, or None when no checkpoint was saved with these records."""
    path = os.path.join(records, RESUME_DIR, RESUME_MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        if not all(key in manifest for key in ("workdir", "checkpoint", "step", "kimg", "files")):
            raise ValueError
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        raise RecordsError(f"{path} is not a checkpoint manifest written by this command") from None
    return manifest


def save_checkpoint(workdir: str, destination: str, workdir_name: str) -> int | None:
    """Copies workdir's newest checkpoint into destination/resume/, replacing the one there.

    Args:
        workdir: the run's workdir.
        destination: its records folder.
        workdir_name: the workdir's path below the runs root, e.g. "lines/runs/acai/seed0",
            where `restore` rebuilds it.

    Returns:
        The checkpoint's step when it was copied; None when the workdir has no checkpoint or the
        saved one is already the newest (nothing is rewritten, so git sees no change).
    """
    prefix = newest_checkpoint(workdir)
    saved = read_manifest(destination)
    if prefix is None or (saved and saved["checkpoint"] == prefix):
        return None
    source = os.path.join(workdir, workdir_lib.CHECKPOINT_DIR)
    with open(os.path.join(workdir, "config.json"), encoding="utf-8") as f:
        batch = int(json.load(f)["train"]["batch"])
    step = workdir_lib.checkpoint_step(prefix)
    staging = tempfile.mkdtemp(prefix=f".{RESUME_DIR}.", dir=destination)
    try:
        files = {}
        for name in checkpoint_files(source, prefix):
            shutil.copyfile(os.path.join(source, name), os.path.join(staging, name))
            digest = sha256(os.path.join(staging, name))
            if digest != sha256(os.path.join(source, name)):
                raise RecordsError(f"the copy of {os.path.join(source, name)} differs from it "
                                   f"(SHA-256); {destination}/{RESUME_DIR} was kept")
            files[name] = {"bytes": os.path.getsize(os.path.join(staging, name)),
                           "sha256": digest}
        # Read the copy back, every tensor against its checksum, before it replaces the copy
        # saved earlier: a damaged newest checkpoint must not cost the good one.
        _check_readable(os.path.join(staging, prefix), f"{destination}/{RESUME_DIR} was kept")
        manifest = {"workdir": workdir_name, "checkpoint": prefix, "step": step,
                    "kimg": step * batch / KIMG, "files": files}
        atomic_write.write_text(os.path.join(staging, RESUME_MANIFEST),
                                json.dumps(manifest, indent=2) + "\n")
        os.chmod(staging, 0o755)
        resume = os.path.join(destination, RESUME_DIR)
        if os.path.isdir(resume):
            os.rename(resume, staging + ".old")
        os.rename(staging, resume)
        shutil.rmtree(staging + ".old", ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return step


def _check_readable(path: str, consequence: str) -> None:
    """RecordsError "<damaged file and cause>; <consequence>" unless checkpoint `path` reads."""
    try:
        checkpoints.check_readable(path)
    except checkpoints.DamagedCheckpoint as error:
        raise RecordsError(f"{error}; {consequence}") from None


def restore(records_dir: str, runs_dir: str, name: str) -> tuple[str, int]:
    """Rebuilds the lost workdir of record `name` from its records and saved checkpoint.

    Returns:
        (the workdir, the checkpoint's step); rerunning the run's command resumes from there.

    Raises:
        RecordsError: no saved checkpoint, a damaged one, or a workdir already in its place
            (nothing is overwritten).
    """
    records = os.path.join(records_dir, name)
    manifest = read_manifest(records)
    if manifest is None:
        raise RecordsError(f"{records} holds no saved checkpoint ({RESUME_DIR}/{RESUME_MANIFEST}):"
                           " save one with --checkpoints while the workdir exists")
    relative = os.path.normpath(manifest["workdir"])
    if os.path.isabs(relative) or relative.split(os.sep)[0] == os.pardir:
        raise RecordsError(f"{records}: workdir {manifest['workdir']!r} is not below the runs dir")
    workdir = os.path.join(runs_dir, relative)
    if os.path.exists(workdir):
        raise RecordsError(f"{workdir} exists: restoring {name} would overwrite it")
    for file_name, expected in sorted(manifest["files"].items()):
        path = os.path.join(records, RESUME_DIR, file_name)
        if not os.path.isfile(path) or sha256(path) != expected["sha256"]:
            raise RecordsError(f"{path} is missing or damaged (SHA-256 differs from "
                               f"{RESUME_MANIFEST}): cannot restore {name}")
    _check_readable(os.path.join(records, RESUME_DIR, manifest["checkpoint"]),
                    f"cannot restore {name}")
    os.makedirs(os.path.dirname(workdir), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(workdir)}.restoring.",
                               dir=os.path.dirname(workdir))
    try:
        for relative_file in RECORD_FILES:
            if os.path.isfile(os.path.join(records, relative_file)):
                os.makedirs(os.path.dirname(os.path.join(staging, relative_file)), exist_ok=True)
                shutil.copyfile(os.path.join(records, relative_file),
                                os.path.join(staging, relative_file))
        checkpoints = os.path.join(staging, workdir_lib.CHECKPOINT_DIR)
        os.makedirs(checkpoints)
        for file_name in manifest["files"]:
            shutil.copyfile(os.path.join(records, RESUME_DIR, file_name),
                            os.path.join(checkpoints, file_name))
        prefix = manifest["checkpoint"]
        atomic_write.write_text(os.path.join(checkpoints, CHECKPOINT_STATE),
                                f'model_checkpoint_path: "{prefix}"\n'
                                f'all_model_checkpoint_paths: "{prefix}"\n')
        os.chmod(staging, 0o755)
        os.rename(staging, workdir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return workdir, int(manifest["step"])


def save_all(runs_dir: str, records_dir: str, *, restarted: Sequence[str] = (),
             checkpoints: bool = False) -> dict[str, dict[str, Any]]:
    """`save` for every workdir below runs_dir (with its newest checkpoint if `checkpoints`),
    then RECORDS_DIR/index.md.

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
                        checkpoint_as=os.path.relpath(workdir, runs_dir) if checkpoints else None)
             for name, workdir in workdirs.items()}
    atomic_write.write_text(os.path.join(records_dir, "index.md"), index(records_dir))
    return saved


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
        cells.append([name, config.get("model", {}).get("name", "?"), f"{kimg:g}",
                      f"{train.get('train_kimg', '?'):g}", len(reports),
                      train.get("precision", "?"), starts[0].get("started", "?"),
                      ", ".join(commits), checkpoint])
    rows += text_tables.markdown(["record", "model", "kimg", "budget (kimg)", "reports",
                                  "precision", "started", "commits", "checkpoint (kimg)"], cells)
    return "\n".join(rows) + "\n"


def define_flags() -> None:
    flags.DEFINE_string("runs_dir", None, f"The long runs' root (default ${RUNS_DIR_ENV}, else "
                        "~/acai_runs).")
    flags.DEFINE_string("records_dir", os.path.join(_ROOT, "results", "runs"),
                        "Where the records are saved.")
    flags.DEFINE_list("restarted", [], "Runs whose workdir was lost and restarted from step 0.")
    flags.DEFINE_bool("checkpoints", False, "Also save each run's newest checkpoint into "
                      f"RECORDS_DIR/<name>/{RESUME_DIR}/ (about 19 MB for ACAI on lines32).")
    flags.DEFINE_list("restore", [], "Rebuild these runs' lost workdirs from their records and "
                      "saved checkpoints (and save nothing).")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    fv = flags.FLAGS
    runs_dir = fv.runs_dir or runs_root()
    if fv.restore:
        if fv.restarted or fv.checkpoints:
            runner.fail("--restore saves nothing: it takes no --restarted or --checkpoints")
        with runner.one_line_errors():
            for name in fv.restore:
                workdir, step = restore(fv.records_dir, runs_dir, name)
                print(f"restored {name} into {workdir} at step {step}: rerun its command to "
                      "resume it")
        return
    with runner.one_line_errors():
        saved = save_all(runs_dir, fv.records_dir, restarted=fv.restarted,
                         checkpoints=fv.checkpoints)
    for name, entry in saved.items():
        rate = entry["images_per_second"]
        line = (f"{name}: {entry['before_kimg']:g} -> {entry['kimg']:g} kimg "
                f"(+{entry['kimg'] - entry['before_kimg']:g})"
                + (f", median {rate:.0f} images/s over the new reports" if rate else ""))
        line += f"; checkpoint of step {entry['checkpoint_step']} saved" if entry[
            "checkpoint_step"] is not None else ""
        print(line + (f"; old records kept in {entry['lost']}" if entry["lost"] else ""))
    print(f"saved {len(saved)} run(s) from {runs_dir} into {fv.records_dir}")


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=runner.parse_or_exit)
