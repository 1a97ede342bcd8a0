"""benchmarks/long_runs.py and its library (acai_tf.reproduction.long_runs,
resume_checkpoints): saving long runs' records into the repository without splicing runs,
and rebuilding a lost workdir from its saved checkpoint.

Most workdirs here are fakes holding only what the records are made of (config.json with its
start records, metrics.jsonl, eval/results.json, checkpoint files of arbitrary bytes), written by
the project's own writers. The restore test trains a tiny run for real, loses its workdir and
resumes it from the saved checkpoint, beside a twin that never lost it.
"""

import dataclasses
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from acai_tf.reproduction import long_runs
from acai_tf.training import metrics_log, train_lib

import tiny

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks")


def make_run(workdir, *, started="2026-12-04T03:02:33+0000", reports=(16, 32), model="acai",
             train_kimg=16384):
    """A fake workdir: config.json with one start, one metrics line per kimg in `reports`."""
    os.makedirs(os.path.join(workdir, "ckpt"), exist_ok=True)
    config = {"model": {"name": model}, "train": {"train_kimg": train_kimg, "batch": 64,
                                                  "precision": "float32"},
              "runs": [{"started": started, "from_step": 0, "commit": "abc123"}]}
    with open(os.path.join(workdir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    add_reports(workdir, reports)
    return workdir


def add_reports(workdir, reports):
    for kimg in reports:
        metrics_log.append(workdir, int(kimg * 16), kimg, {
            "eval/mean_distance": 1.0 / kimg, "monitors/images_per_second": 10.0 * kimg})


def add_checkpoint(workdir, step):
    """A real (tiny) checkpoint ckpt-<step> saved by the CheckpointManager every run uses, which
    also rewrites the state file to name it."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    checkpoint = tf.train.Checkpoint(weights=tf.Variable([float(step)] * 64))
    tf.train.CheckpointManager(checkpoint, os.path.join(workdir, "ckpt"), max_to_keep=5,
                               checkpoint_name="ckpt").save(checkpoint_number=step)


def damage(path):
    """Flips 8 bytes in the middle of file `path`."""
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        chunk = f.read(8)
        f.seek(os.path.getsize(path) // 2)
        f.write(bytes(byte ^ 0xFF for byte in chunk))


def test_records_are_copied_under_names_without_the_runs_folders(tmp_path):
    runs, records = tmp_path / "acai_runs", tmp_path / "results_runs"
    make_run(str(runs / "lines" / "runs" / "acai" / "seed0"))
    make_run(str(runs / "mnist" / "runs" / "vae" / "latent2" / "seed1"), model="vae")
    os.makedirs(runs / "logs")  # not a run: no config.json
    open(runs / "logs" / "queue.log", "w").close()
    results = runs / "lines" / "runs" / "acai" / "seed0" / "eval" / "results.json"
    results.parent.mkdir()
    results.write_text('{"lines": {}}')

    saved = long_runs.save_all(str(runs), str(records))

    assert sorted(saved) == ["lines_acai_seed0", "mnist_vae_latent2_seed1"]
    acai = records / "lines_acai_seed0"
    assert sorted(os.listdir(acai)) == ["config.json", "eval", "metrics.jsonl"]
    assert (acai / "eval" / "results.json").read_text() == '{"lines": {}}'
    assert [r["kimg"] for r in metrics_log.read(str(acai))] == [16, 32]
    assert not (records / "mnist_vae_latent2_seed1" / "eval").exists()
    assert saved["lines_acai_seed0"] == {"before_kimg": 0.0, "kimg": 32.0, "lost": None,
                                         "images_per_second": 320.0, "checkpoint_step": None,
                                         "not_due": None}
    index = (records / "index.md").read_text()
    # 16 kimg at 160 images/s, then 16 at 320: 0.0427 h; the rate the median of the two.
    assert "| lines_acai_seed0 | acai | 32 | 16384 | 2 | 0.0 | 320 | ? | float32 |" in index
    assert "| mnist_vae_latent2_seed1 | vae | 32 |" in index
    assert "| 2026-12-04T03:02:33+0000 | abc123 | - |" in index  # no checkpoint saved


def test_saved_records_in_a_checkout_below_the_root_are_not_runs(tmp_path):
    # A code snapshot that long runs train from holds results/runs/<record>/ with the same
    # config.json and metrics.jsonl as a workdir, but no checkpoints: it is not a run.
    runs, records = tmp_path / "acai_runs", tmp_path / "results_runs"
    make_run(str(runs / "lines" / "runs" / "acai" / "seed0"))
    long_runs.save_all(str(runs), str(runs / "code" / "abc123" / "results" / "runs"))

    saved = long_runs.save_all(str(runs), str(records))

    assert sorted(saved) == ["lines_acai_seed0"]
    assert sorted(os.listdir(records)) == ["index.md", "lines_acai_seed0"]


def test_a_later_save_reports_what_the_run_gained(tmp_path):
    workdir = make_run(str(tmp_path / "runs" / "lines" / "runs" / "acai" / "seed0"))
    records = str(tmp_path / "records")
    long_runs.save_all(str(tmp_path / "runs"), records)
    add_reports(workdir, (48, 64, 80))
    saved = long_runs.save_all(str(tmp_path / "runs"), records)["lines_acai_seed0"]
    assert (saved["before_kimg"], saved["kimg"]) == (32.0, 80.0)
    assert saved["images_per_second"] == 640.0  # median of 480, 640, 800: the new reports only
    assert len(metrics_log.read(os.path.join(records, "lines_acai_seed0"))) == 5


def test_a_restarted_run_is_never_spliced_onto_the_old_records(tmp_path):
    runs, records = tmp_path / "runs", tmp_path / "records"
    workdir = str(runs / "lines" / "runs" / "acai" / "seed0")
    make_run(workdir, reports=(16, 32, 48))
    long_runs.save_all(str(runs), str(records))
    old = (records / "lines_acai_seed0" / "metrics.jsonl").read_text()
    # The workdir is lost; the run starts again from step 0 and reports once.
    for name in os.listdir(workdir):
        path = os.path.join(workdir, name)
        os.remove(path) if os.path.isfile(path) else None
    make_run(workdir, started="2026-12-05T09:00:00+0000", reports=(16,))

    with pytest.raises(long_runs.RecordsError, match="restarted from step 0.*--restarted="
                                                     "lines_acai_seed0"):
        long_runs.save_all(str(runs), str(records))
    assert (records / "lines_acai_seed0" / "metrics.jsonl").read_text() == old

    saved = long_runs.save_all(str(runs), str(records), restarted=["lines_acai_seed0"])
    lost = records / "lines_acai_seed0.lost-20261204T0302330000"
    assert saved["lines_acai_seed0"]["lost"] == str(lost)
    assert (lost / "metrics.jsonl").read_text() == old
    assert [r["kimg"] for r in metrics_log.read(str(records / "lines_acai_seed0"))] == [16]
    assert "| lines_acai_seed0.lost-20261204T0302330000 | acai | 48 |" in (
        records / "index.md").read_text()


def test_a_workdir_behind_its_records_or_an_unknown_restart_changes_nothing(tmp_path):
    runs, records = tmp_path / "runs", tmp_path / "records"
    make_run(str(runs / "a" / "seed0"), reports=(16, 32))
    make_run(str(runs / "b" / "seed0"), reports=(16,))
    long_runs.save_all(str(runs), str(records))
    add_reports(str(runs / "b" / "seed0"), (32, 48))
    # a is restored from an older copy: at 16 kimg, behind its saved 32.
    os.remove(runs / "a" / "seed0" / "metrics.jsonl")
    add_reports(str(runs / "a" / "seed0"), (16,))
    with pytest.raises(long_runs.RecordsError, match="behind its saved records"):
        long_runs.save_all(str(runs), str(records))
    assert len(metrics_log.read(str(records / "b_seed0"))) == 1  # checked first, nothing written
    with pytest.raises(long_runs.RecordsError, match="names no run.*: c_seed0"):
        long_runs.save_all(str(runs), str(records), restarted=["c_seed0"])


def test_the_reproductions_default_to_a_folder_outside_the_checkout(tmp_path, monkeypatch):
    env = dict(os.environ, ACAI_RUNS_DIR=str(tmp_path / "store"))
    result = subprocess.run([sys.executable, os.path.join(BENCHMARKS, "reproduce_lines.py"),
                             "--helpfull"], capture_output=True, text=True, env=env,
                            timeout=120, check=False)
    help_text = "".join(result.stdout.split())  # absl wraps long defaults anywhere
    assert f"(default:'{tmp_path / 'store' / 'lines'}')" in help_text
    monkeypatch.delenv("ACAI_RUNS_DIR", raising=False)
    assert long_runs.runs_root() == os.path.expanduser("~/acai_runs")


def test_the_binary_prints_gains_and_fails_in_one_line(tmp_path):
    runs = tmp_path / "runs"
    make_run(str(runs / "lines" / "runs" / "acai" / "seed0"))
    command = [sys.executable, os.path.join(BENCHMARKS, "long_runs.py"), f"--runs_dir={runs}",
               f"--records_dir={tmp_path / 'records'}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.splitlines() == [
        "lines_acai_seed0: 0 -> 32 kimg (+32), median 320 images/s over the new reports",
        f"saved 1 run(s) from {runs} into {tmp_path / 'records'}"]
    missing = subprocess.run([*command[:2], f"--runs_dir={tmp_path / 'none'}"],
                             capture_output=True, text=True, timeout=120, check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'none'} does not exist: no long runs to save"]


def test_the_newest_checkpoint_is_saved_once_with_its_manifest(tmp_path):
    runs, records = tmp_path / "runs", tmp_path / "records"
    workdir = make_run(str(runs / "lines" / "runs" / "acai" / "seed0"))
    add_checkpoint(workdir, 512)
    add_checkpoint(workdir, 1024)  # the newest; ckpt-512 stays in the workdir
    saved = long_runs.save_all(str(runs), str(records))["lines_acai_seed0"]
    assert saved["checkpoint_step"] is None
    assert not (records / "lines_acai_seed0" / "resume").exists()  # only when asked

    saved = long_runs.save_all(str(runs), str(records), checkpoints=True)["lines_acai_seed0"]

    resume = records / "lines_acai_seed0" / "resume"
    assert saved["checkpoint_step"] == 1024
    assert sorted(os.listdir(resume)) == [
        "ckpt-1024.data-00000-of-00001", "ckpt-1024.index", "resume.json"]
    manifest = json.loads((resume / "resume.json").read_text())
    assert (manifest["workdir"], manifest["checkpoint"], manifest["step"]) == (
        os.path.join("lines", "runs", "acai", "seed0"), "ckpt-1024", 1024)
    assert manifest["kimg"] == 1024 * 64 / 1024  # the config's batch 64 (make_run)
    assert manifest["files"]["ckpt-1024.index"]["bytes"] == os.path.getsize(
        os.path.join(workdir, "ckpt", "ckpt-1024.index"))
    before = {name: os.stat(resume / name).st_mtime_ns for name in os.listdir(resume)}
    # Saving again copies nothing (git sees no change) until a newer checkpoint exists.
    again = long_runs.save_all(str(runs), str(records), checkpoints=True)["lines_acai_seed0"]
    assert again["checkpoint_step"] is None
    assert {name: os.stat(resume / name).st_mtime_ns for name in os.listdir(resume)} == before
    add_checkpoint(workdir, 2048)
    assert long_runs.save_all(str(runs), str(records),
                              checkpoints=True)["lines_acai_seed0"]["checkpoint_step"] == 2048
    assert sorted(os.listdir(resume)) == [
        "ckpt-2048.data-00000-of-00001", "ckpt-2048.index", "resume.json"]
    assert sorted(os.listdir(records / "lines_acai_seed0")) == [
        "config.json", "metrics.jsonl", "resume"]  # no staging folder left behind
    assert "| 2026-12-04T03:02:33+0000 | abc123 | 128 |" in (records / "index.md").read_text()

    # A restart from step 0 moves the old records aside without their checkpoint, which can
    # never resume: the restart has taken its workdir's place.
    shutil.rmtree(workdir)
    make_run(workdir, started="2026-12-05T09:00:00+0000", reports=(16,))
    long_runs.save_all(str(runs), str(records), restarted=["lines_acai_seed0"])
    assert sorted(os.listdir(records / "lines_acai_seed0.lost-20261204T0302330000")) == [
        "config.json", "metrics.jsonl"]


def test_a_checkpoint_is_due_only_with_4096_kimg_gained_and_more_than_4_hours_left(tmp_path):
    runs, records = tmp_path / "acai_runs", tmp_path / "results_runs"
    workdir = str(runs / "mnist" / "runs" / "acai" / "latent16" / "seed0")
    make_run(workdir, reports=())

    def train_to(kimg, images_per_second):
        metrics_log.append(workdir, int(kimg * 16), kimg,
                           {"monitors/images_per_second": images_per_second})
        add_checkpoint(workdir, int(kimg * 16))
        return long_runs.save_all(str(runs), str(records), checkpoints="due")[
            "mnist_acai_latent16_seed0"]

    early = train_to(2048, 200.0)
    assert early["checkpoint_step"] is None
    assert early["not_due"] == "2048 kimg gained since step 0 (saved every 4096)"
    # 12,288 kimg left at 200 images/s: 17.5 h.
    assert train_to(4096, 200.0)["checkpoint_step"] == 65536
    assert long_runs.read_manifest(str(records / "mnist_acai_latent16_seed0"))["kimg"] == 4096
    # 4,096 kimg more, but 8,192 kimg left at 2,000 images/s is 1.2 h: a restart costs less.
    late = train_to(8192, 2000.0)
    assert late["checkpoint_step"] is None and late["not_due"].startswith(
        "1.2 h left at 2000 images/s")
    assert long_runs.read_manifest(str(records / "mnist_acai_latent16_seed0"))["kimg"] == 4096


def test_training_hours_add_each_reports_kimg_at_its_rate_and_machines_merge_repeats():
    reports = [{"kimg": 64.0, "monitors/images_per_second": 128.0},
               {"kimg": 128.0},  # no rate: adds nothing
               {"kimg": 192.0, "monitors/images_per_second": 256.0}]
    hours, rate = long_runs.training_hours(reports)
    assert hours == pytest.approx((64 * 1024 / 128 + 64 * 1024 / 256) / 3600)
    assert rate == 256.0  # the upper median of [128, 256]
    assert long_runs.training_hours([]) == (0.0, None)
    starts = [{"cpu": "AMD EPYC", "cpu_flags": ["avx2"], "onednn": True},
              {"cpu": "AMD EPYC", "cpu_flags": ["avx2"], "onednn": True},
              {"cpu": "Intel Xeon", "cpu_flags": ["avx512f", "amx"], "onednn": False},
              {"from_step": 0}]
    assert long_runs.machines(starts) == (
        "AMD EPYC avx2 (on), Intel Xeon avx512f amx (off)")


def test_a_restore_refuses_missing_damaged_or_overwriting_and_writes_nothing(tmp_path):
    runs, records = tmp_path / "runs", tmp_path / "records"
    workdir = make_run(str(runs / "mnist" / "runs" / "vae" / "seed1"), model="vae")
    long_runs.save_all(str(runs), str(records))
    with pytest.raises(long_runs.RecordsError, match="holds no saved checkpoint"):
        long_runs.restore(str(records), str(runs), "mnist_vae_seed1")
    add_checkpoint(workdir, 64)
    long_runs.save_all(str(runs), str(records), checkpoints=True)
    with pytest.raises(long_runs.RecordsError, match="seed1 exists: restoring mnist_vae_seed1 "
                                                     "would overwrite it"):
        long_runs.restore(str(records), str(runs), "mnist_vae_seed1")
    shutil.rmtree(runs)
    data = records / "mnist_vae_seed1" / "resume" / "ckpt-64.data-00000-of-00001"
    good_data = data.read_bytes()
    damage(data)
    with pytest.raises(long_runs.RecordsError, match="ckpt-64.data-00000-of-00001 is missing or "
                                                     "damaged"):
        long_runs.restore(str(records), str(runs), "mnist_vae_seed1")
    assert not (runs / "mnist" / "runs" / "vae" / "seed1").exists()
    data.write_bytes(good_data)
    manifest = records / "mnist_vae_seed1" / "resume" / "resume.json"
    good = manifest.read_text()
    manifest.write_text(good[:40])  # cut short
    with pytest.raises(long_runs.RecordsError, match="resume.json is not a checkpoint manifest"):
        long_runs.restore(str(records), str(runs), "mnist_vae_seed1")
    manifest.write_text(good)
    workdir, step = long_runs.restore(str(records), str(runs), "mnist_vae_seed1")
    assert (workdir, step) == (str(runs / "mnist" / "runs" / "vae" / "seed1"), 64)
    assert sorted(os.listdir(workdir)) == ["ckpt", "config.json", "metrics.jsonl"]
    assert os.listdir(runs / "mnist" / "runs" / "vae") == ["seed1"]  # no staging folder left
    assert long_runs.newest_checkpoint(workdir) == "ckpt-64"


def test_a_lost_workdir_restored_from_its_checkpoint_resumes_like_one_never_lost(tmp_path):
    runs, records = tmp_path / "runs", tmp_path / "records"
    workdir, twin = runs / "lines" / "runs" / "acai" / "seed0", tmp_path / "twin"
    config = tiny.experiment()  # 16 steps, a report and checkpoint every 8
    settings = tiny.eval_settings()
    for folder in (workdir, twin):
        train_lib.train(config, str(folder), eval_settings=settings, log=lambda line: None)
    saved = long_runs.save_all(str(runs), str(records), checkpoints=True)["lines_acai_seed0"]
    assert saved["checkpoint_step"] == 16
    shutil.rmtree(runs)  # the machine is gone with the workdir

    command = [sys.executable, os.path.join(BENCHMARKS, "long_runs.py"), f"--runs_dir={runs}",
               f"--records_dir={records}", "--restore=lines_acai_seed0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.splitlines() == [
        f"restored lines_acai_seed0 into {workdir} at step 16: rerun its command to resume it"]
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"error: {workdir} exists: restoring lines_acai_seed0 would overwrite it"]

    longer = dataclasses.replace(config, train=dataclasses.replace(config.train, train_kimg=0.375))
    restored = train_lib.train(longer, str(workdir), eval_settings=settings, log=lambda line: None)
    never_lost = train_lib.train(longer, str(twin), eval_settings=settings, log=lambda line: None)
    assert (restored["resumed_from"], restored["step"]) == (16, 24)
    assert (never_lost["resumed_from"], never_lost["step"]) == (16, 24)
    # The same weights and optimizer slots, bit for bit, and the same reports.
    ours = tf_checkpoint_values(str(workdir))
    assert ours.keys() == tf_checkpoint_values(str(twin)).keys() and len(ours) > 20
    for name, value in tf_checkpoint_values(str(twin)).items():
        np.testing.assert_array_equal(ours[name], value, err_msg=name)
    assert reports_without_timing(str(workdir)) == reports_without_timing(str(twin))
    # The resumed workdir's records save on top of the old ones (same start, not behind).
    assert long_runs.save_all(str(runs), str(records))["lines_acai_seed0"]["kimg"] == 0.375


def reports_without_timing(workdir):
    """metrics.jsonl's reports without images/s (wall time), NaN as None (NaN != NaN)."""
    return [{key: None if value != value else value for key, value in report.items()
             if key != "monitors/images_per_second"} for report in metrics_log.read(workdir)]


def tf_checkpoint_values(workdir):
    """{variable name: value} of the newest checkpoint in workdir/ckpt (step counters and
    the save counter left out)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    reader = tf.train.load_checkpoint(os.path.join(workdir, "ckpt"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if "save_counter" not in name and name != "_CHECKPOINTABLE_OBJECT_GRAPH"}


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def test_a_damaged_newest_checkpoint_never_replaces_the_saved_one(tmp_path):
    runs, records = tmp_path / "runs", tmp_path / "records"
    workdir = make_run(str(runs / "lines" / "runs" / "acai" / "seed0"))
    add_checkpoint(workdir, 1024)
    long_runs.save_all(str(runs), str(records), checkpoints=True)
    resume = records / "lines_acai_seed0" / "resume"
    before = {name: (resume / name).read_bytes() for name in os.listdir(resume)}
    add_checkpoint(workdir, 2048)
    data = os.path.join(workdir, "ckpt", "ckpt-2048.data-00000-of-00001")
    damage(data)
    with pytest.raises(long_runs.RecordsError, match=(
            f"^checkpoint file .*/ckpt-2048.data-00000-of-00001 is damaged: .*Checksum does not "
            f"match.*; {records}/lines_acai_seed0/resume was kept$")):
        long_runs.save_all(str(runs), str(records), checkpoints=True)
    assert {name: (resume / name).read_bytes() for name in os.listdir(resume)} == before
    assert sorted(os.listdir(records / "lines_acai_seed0")) == [
        "config.json", "metrics.jsonl", "resume"]  # no staging folder left behind


def test_a_restore_refuses_a_copy_that_does_not_read(tmp_path):
    """The copy's hashes match its manifest, but it was damaged before it was saved (records
    from before the read-back check): the restore names it and writes nothing."""
    runs, records = tmp_path / "runs", tmp_path / "records"
    workdir = make_run(str(runs / "mnist" / "runs" / "vae" / "seed1"), model="vae")
    add_checkpoint(workdir, 64)
    long_runs.save_all(str(runs), str(records), checkpoints=True)
    shutil.rmtree(runs)
    resume = records / "mnist_vae_seed1" / "resume"
    damage(resume / "ckpt-64.data-00000-of-00001")
    manifest = json.loads((resume / "resume.json").read_text())
    manifest["files"]["ckpt-64.data-00000-of-00001"]["sha256"] = long_runs.sha256(
        str(resume / "ckpt-64.data-00000-of-00001"))
    (resume / "resume.json").write_text(json.dumps(manifest))
    with pytest.raises(long_runs.RecordsError, match=(
            f"^checkpoint file {resume}/ckpt-64.data-00000-of-00001 is damaged: .*; cannot "
            "restore mnist_vae_seed1$")):
        long_runs.restore(str(records), str(runs), "mnist_vae_seed1")
    assert not runs.exists()
