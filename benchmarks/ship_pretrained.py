"""Ships a trained lines32 ACAI run as the repository's pretrained model, with its scores.

    python benchmarks/ship_pretrained.py --workdir=RUN --out=pretrained/lines32_acai
    python benchmarks/ship_pretrained.py --workdir=RUN --out=pretrained/lines32_acai --overwrite

RUN is a lines32 ACAI training workdir (config.json and ckpt/). Its latest complete checkpoint,
config.json and metrics.jsonl are copied first, so a run still training there is only read, at
a consistent step. OUT receives what serving needs and nothing else (no optimizer state, no
critic, no latent classifier; see `acai_tf.serving.pretrained` for the layout): the float32
SavedModel of the encoder and decoder with TF Serving's models.config, and metrics.json and
README.md holding the exported model's lines scores on the benchmark's 256 pairs x 16 steps
next to pixel blending of the same pairs, the checkpoint's step and kimg out of the run's
budget, the config, the commits that trained it, the training-time medians of Table 1 and the
machine that scored it.

OUT is written in a hidden folder beside it and renamed into place when complete, so a kill
leaves the previous model as it was (and the hidden .OUT.incomplete-* folder, to delete). An
existing OUT is replaced only with --overwrite.

After shipping the repository's model, `python -m flags.demo --pretrained --workdir=results`
redraws results/pretrained_interpolations.png (the README's first figure) and
`python benchmarks/update_readme.py` copies the new scores into the README.
"""

from __future__ import annotations

import datetime
import os
import shutil
import sys
import tempfile
import textwrap

# Run as a script, only benchmarks/ is on sys.path; the library lives at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# pylint: disable=wrong-import-position
from absl import flags

# First: importing acai_tf.cli keeps TensorFlow's start-up banner off stderr (quiet_start).
from acai_tf.cli import runner  # isort: skip
from acai_tf.outputs import atomic_write, strict_json, text_tables
from acai_tf.reproduction import paper_runs, run_records
from acai_tf.training import machine, metrics_log
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.errors import UserError
from acai_tf.serving import export_lib, pretrained


class ShipError(UserError, RuntimeError):
    """The model cannot be shipped as asked; the message is one line."""


def check_out(out: str, overwrite: bool) -> None:
    """Raises ShipError if `out` exists and may not be replaced."""
    if not os.path.lexists(out):
        return
    if not overwrite:
        raise ShipError(f"{out} already exists: pass --overwrite to replace the shipped model")
    if not os.path.isfile(os.path.join(out, pretrained.METRICS_FILENAME)):
        raise ShipError(f"{out} exists and is not a shipped model (no "
                        f"{pretrained.METRICS_FILENAME}); it was left untouched")


def check_run(workdir: str):
    """The run's ExperimentConfig; ShipError unless it trains ACAI on lines32."""
    config = workdir_lib.load_config(workdir)
    if (config.train.dataset, config.model.name) != ("lines32", "acai"):
        raise ShipError(f"{workdir} trains {config.model.name} on {config.train.dataset}; only a "
                        "lines32 ACAI run can be shipped as the pretrained lines32 ACAI model")
    return config


def snapshot(workdir: str, copy: str) -> tuple[str, int]:
    """Copies config.json, the latest complete checkpoint and the reports up to its step.

    A training process lists a checkpoint in ckpt/checkpoint only once its files are complete,
    and deletes it only five checkpoints later, so the copy is a consistent state of the run.

    Returns:
        (checkpoint path prefix in `copy`, its step).
    """
    latest = workdir_lib.latest_checkpoint(workdir)
    step = workdir_lib.checkpoint_step(latest)
    os.makedirs(workdir_lib.checkpoint_dir(copy))
    shutil.copyfile(workdir_lib.config_path(workdir), workdir_lib.config_path(copy))
    name = os.path.basename(latest)
    try:
        for file in os.listdir(workdir_lib.checkpoint_dir(workdir)):
            if file.startswith(name + "."):
                shutil.copyfile(os.path.join(workdir_lib.checkpoint_dir(workdir), file),
                                os.path.join(workdir_lib.checkpoint_dir(copy), file))
    except FileNotFoundError:
        raise ShipError(f"checkpoint {latest} was deleted while being copied; run again") from None
    for record in metrics_log.read(workdir):
        if record["step"] <= step:
            scalars = {k: v for k, v in record.items() if k not in ("step", "kimg")}
            metrics_log.append(copy, record["step"], record["kimg"], scalars)
    return os.path.join(workdir_lib.checkpoint_dir(copy), name), step


def ship(workdir: str, out: str, *, overwrite: bool = False) -> dict:
    """Exports and scores the latest checkpoint of `workdir` into `out`; returns metrics.json."""
    check_out(out, overwrite)
    config = check_run(workdir)
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.incomplete-", dir=parent)
    try:
        with tempfile.TemporaryDirectory() as copy:
            checkpoint, step = snapshot(workdir, copy)
            export_lib.export(copy, scratch, version=pretrained.VERSION,
                              model_name=pretrained.MODEL_NAME, checkpoint=checkpoint)
            ends_a, ends_b = pretrained.benchmark_pairs(config)
            decoded = pretrained.interpolations(pretrained.saved_model_dir(scratch), ends_a,
                                                ends_b)
            record = _record(workdir, copy, config, step, decoded.shape[:2],
                             pretrained.lines_scores(ends_a, ends_b, decoded))
        atomic_write.write_text(os.path.join(scratch, pretrained.METRICS_FILENAME),
                                strict_json.dumps(record, indent=2) + "\n")
        atomic_write.write_text(os.path.join(scratch, pretrained.README_FILENAME),
                                _readme(record))
        os.chmod(scratch, 0o755)  # mkdtemp's 0700 would hide the model from other users.
        _move_into_place(scratch, out, overwrite)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return record


def _move_into_place(scratch: str, out: str, overwrite: bool) -> None:
    """Renames the complete `scratch` to `out`, replacing an old model only if allowed."""
    check_out(out, overwrite)  # Again: another process may have shipped meanwhile.
    if not os.path.lexists(out):
        os.rename(scratch, out)
        return
    # Two renames: a kill between them (microseconds) leaves the old model under .NAME.old-*.
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.old-", dir=os.path.dirname(scratch))
    os.rename(out, old)
    os.rename(scratch, out)
    shutil.rmtree(old)


def _record(workdir: str, copy: str, config, step: int, shape: tuple[int, int],
            scores: dict) -> dict:
    """The content of metrics.json, NaN for an undefined score (written as null).

    `copy` is the workdir's copy, holding the reports up to `step`; `shape` is (pairs, steps)
    of the scored interpolations.
    """
    kimg, budget = step * config.train.batch / 1024, config.train.train_kimg
    reports = metrics_log.read(copy)
    at_step = next((r for r in reports if r["step"] == step), {})
    runs = [run for run in workdir_lib.load_run_records(copy) if run.get("from_step", 0) < step]
    paper = paper_runs.get("lines32_acai").experiment_config(seed=config.train.seed)
    return {
        "model": "ACAI on lines32, float32 SavedModel of the encoder and decoder",
        "saved_model": f"{pretrained.MODEL_NAME}/{pretrained.VERSION}",
        "checkpoint": {
            "step": step, "kimg": kimg, "train_kimg": budget,
            "taken_at": f"{kimg:,g} kimg of the run's {budget:,g} kimg budget "
                        f"({100 * kimg / budget:.1f} %)"
                        + (", the full budget" if kimg >= budget else ", while it trained on"),
            "workdir": os.path.abspath(workdir)},
        "lines_benchmark": {
            "protocol": "linear latent interpolations between test lines 0..255 and 256..511 "
                        "of the run's seed (the training reports' pairs), decoded raw by the "
                        "exported SavedModel, scored by acai_tf.lines.metric.line_metrics",
            "pairs": int(shape[0]), "steps": int(shape[1]), "seed": config.train.seed,
            "exported_model": scores["model"], "pixel_blending": scores["pixel_blending"],
            "training_report_at_this_step": {k: v for k, v in at_step.items()
                                             if k.startswith("eval/")} or None},
        "training_medians": {
            "protocol": "the median of the last 20 training reports up to this step, as Table 1",
            "reports": len(reports),
            "medians": run_records.training_medians(copy, last_n=20)} if reports else None,
        "config": config.to_dict(),
        "differs_from_paper": [text for _, text in workdir_lib.config_differences(
            paper.to_resolved_dict(), config.to_resolved_dict())],
        "commits": sorted({run["commit"] for run in runs if run.get("commit")}),
        "trained_by": runs,
        "scored_on": machine.describe(),
        "shipped": {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(
                        timespec="seconds"),
                    "commit": machine.source_commit(),
                    "command": " ".join(["python benchmarks/ship_pretrained.py", *sys.argv[1:]])},
    }


def _readme(record: dict) -> str:
    """README.md of the shipped folder, from its metrics.json content."""
    lines, taken = record["lines_benchmark"], record["checkpoint"]
    rows = [[name, f"{m['mean_distance']:.4g}", f"{m['mean_smoothness']:.3f}",
             f"{100 * m['long_way_fraction']:.1f} %"]
            for name, m in (("this model", lines["exported_model"]),
                            ("pixel blending of the same pairs", lines["pixel_blending"]))]
    differences = "; ".join(record["differs_from_paper"])
    paragraphs = [
        f"ACAI trained on lines32 in the configuration of metrics.json, "
        + (f"which differs from the paper's ({differences})" if differences else
           "the paper's (flags/runs/lines32_acai.flags)")
        + f", taken at step {taken['step']}: {taken['taken_at']}. Trained at commit(s) "
        f"{', '.join(record['commits']) or 'unknown'}.",
        f"The {lines['pairs']} interpolations x {lines['steps']} steps of the lines benchmark "
        "(lower is better; `acai_tf.lines.metric`), computed from the SavedModel here:"]
    medians = (record["training_medians"] or {}).get("medians", {})
    if "eval/mean_distance" in medians:
        paragraphs.append(
            f"Training-time medians, {record['training_medians']['protocol']}: mean distance "
            f"{medians['eval/mean_distance']:.4g}, mean smoothness "
            f"{medians['eval/mean_smoothness']:.3f}.")
    paragraphs += [
        f"`{record['saved_model']}/` is the float32 SavedModel of the encoder and decoder "
        "(signatures `encode`, `decode`, `reconstruct`, `interpolate`; see export/README.md); "
        "`models.config` serves it with `tensorflow_model_server --model_config_file` when this "
        "folder is mounted at /models. `metrics.json` holds the scores, the checkpoint, the "
        "config, the commits and machine that trained it and the machine that scored it.",
        "`acai-demo --pretrained` loads it and redraws the scores and the figure in seconds. "
        "Written by the command below (`--overwrite` replaces it):"]
    # "\0" holds "3.9 %" together across the wrapping.
    text = [textwrap.fill(paragraph.replace(" %", "\0%"), 100, break_on_hyphens=False)
            .replace("\0", " ") for paragraph in paragraphs]
    table = "\n".join(text_tables.markdown(
        ["", "mean distance", "mean smoothness", "long way round"], rows))
    return "\n\n".join(["# Pretrained ACAI on lines32", *text[:2], table, *text[2:],
                         f"    {record['shipped']['command']}"]) + "\n"


def define_flags() -> None:
    flags.DEFINE_string("workdir", None, "A trained lines32 ACAI workdir (only read).")
    flags.DEFINE_string("out", pretrained.default_folder(),
                        "The shipped model's folder (default the repository's).")
    flags.DEFINE_bool("overwrite", False, "Replace an existing shipped model in --out.")


def main() -> None:
    fv = flags.FLAGS
    with runner.one_line_errors():
        record = ship(fv.workdir, fv.out, overwrite=fv.overwrite)
    scores = record["lines_benchmark"]
    print(f"shipped {fv.workdir} at {record['checkpoint']['taken_at']} to {fv.out}")
    for name, key in (("exported model", "exported_model"), ("pixel blending", "pixel_blending")):
        print(f"  {name}: mean distance {scores[key]['mean_distance']:.4g}, mean smoothness "
              f"{scores[key]['mean_smoothness']:.4g}")


if __name__ == "__main__":
    runner.run(__name__, main, define_flags=define_flags, required=("workdir",))
