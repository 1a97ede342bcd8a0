"""benchmarks/long_runs.py: saving long runs' records into the repository without splicing runs.

Workdirs here are fakes holding only what the records are made of (config.json with its start
records, metrics.jsonl, eval/results.json), written by the project's own writers.
"""

import json
import os
import subprocess
import sys

import pytest

from acai_tf import metrics_log

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks")
sys.path.insert(0, BENCHMARKS)
import long_runs  # noqa: E402  pylint: disable=wrong-import-position


def make_run(workdir, *, started="2026-12-04T03:02:33+0000", reports=(16, 32), model="acai",
             train_kimg=16384):
    """A fake workdir: config.json with one start, one metrics line per kimg in `reports`."""
    os.makedirs(os.path.join(workdir, "ckpt"), exist_ok=True)
    config = {"model": {"name": model}, "train": {"train_kimg": train_kimg,
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
                                         "images_per_second": 320.0}
    index = (records / "index.md").read_text()
    assert "| lines_acai_seed0 | acai | 32 | 16384 | 2 | float32 |" in index
    assert "| mnist_vae_latent2_seed1 | vae | 32 |" in index


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


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
