"""acai_tf.reproduction.precision_parity and benchmarks/precision_parity.py on fake records."""

import json
import os
import subprocess
import sys

import pytest

from acai_tf.reproduction import precision_parity

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SCRIPT = os.path.join(ROOT, "benchmarks", "precision_parity.py")


def write_record(path, precision, cpu, runs, train_kimg=448.0):
    """runs: (model, seed, distance, smoothness) -> a lines_reproduction.json at path."""
    record = {"train": {"train_kimg": train_kimg, "report_kimg": 4.0, "precision": precision},
              "last_n": 20, "machine": {"cpu": cpu, "cpu_flags": ["avx2"], "onednn": True},
              "runs": [{"model": model, "seed": seed,
                        "training_medians": {"eval/mean_distance": distance,
                                             "eval/mean_smoothness": smoothness}}
                       for model, seed, distance, smoothness in runs]}
    path.write_text(json.dumps(record))
    return str(path)


@pytest.fixture(name="records")
def fixture_records(tmp_path):
    reference = [
        write_record(tmp_path / "a.json", "float32", "CPU A",
                     [("acai", 0, 0.0020, 0.09), ("acai", 1, 0.0026, 0.10),
                      ("baseline", 0, 0.0126, 0.22)]),
        write_record(tmp_path / "b.json", "float32", "CPU B", [("baseline", 1, 0.0096, 0.30)])]
    candidate = [write_record(tmp_path / "c.json", "mixed_bfloat16", "CPU B",
                              [("acai", 0, 0.0024, 0.11), ("baseline", 0, 0.0134, 0.25)])]
    return reference, candidate


def test_each_candidate_run_is_set_beside_the_range_of_its_models_reference_runs(records):
    reference, candidate = ([precision_parity.load(path) for path in paths] for paths in records)
    rows = precision_parity.compare(reference, candidate)
    by_key = {(row["model"], row["metric"]): row for row in rows}
    assert [row["model"] for row in rows] == ["baseline", "baseline", "acai", "acai"]  # paper order
    distance = by_key[("baseline", "Mean distance (×10³)")]
    # The range spans both reference records (two machines); 13.4 lies above it.
    assert (distance["low"], distance["high"]) == pytest.approx((9.6, 12.6))
    assert distance["inside"] == [False]
    assert by_key[("acai", "Mean distance (×10³)")]["inside"] == [True]
    assert by_key[("acai", "Mean smoothness")]["inside"] == [False]  # 0.11 > 0.10
    text = precision_parity.markdown(reference, candidate)
    assert text.startswith("# mixed_bfloat16 against float32 on lines32")
    assert "| Baseline | Mean smoothness | seed 0 0.22 (CPU A); seed 1 0.30 (CPU B) |" in text
    assert "2 of 4 mixed_bfloat16 values lie inside the range" in text


def test_records_of_different_budgets_or_without_reference_runs_are_refused(tmp_path, records):
    reference, candidate = ([precision_parity.load(path) for path in paths] for paths in records)
    longer = precision_parity.load(write_record(tmp_path / "d.json", "float32", "CPU A",
                                                [("acai", 2, 0.002, 0.1)], train_kimg=2048.0))
    with pytest.raises(precision_parity.ParityError, match="different budgets"):
        precision_parity.compare([*reference, longer], candidate)
    vae = precision_parity.load(write_record(tmp_path / "e.json", "mixed_bfloat16", "CPU B",
                                             [("vae", 0, 0.004, 0.3)]))
    with pytest.raises(precision_parity.ParityError, match="no reference run of vae"):
        precision_parity.compare(reference, [vae])


def test_command_writes_the_page_and_gives_one_line_errors(tmp_path, records):
    reference, candidate = records
    out = tmp_path / "out" / "parity.md"
    result = subprocess.run([sys.executable, SCRIPT, f"--reference={','.join(reference)}",
                             f"--candidate={candidate[0]}", f"--out={out}"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "inside the range" in out.read_text()
    (tmp_path / "bad.json").write_text("{}")
    result = subprocess.run([sys.executable, SCRIPT, f"--reference={tmp_path / 'bad.json'}",
                             f"--candidate={candidate[0]}", f"--out={tmp_path / 'x.md'}"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {tmp_path / 'bad.json'} is not a lines_reproduction.json of reproduce_lines.py")
    assert not (tmp_path / "x.md").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
