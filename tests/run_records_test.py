"""Tests of the run records the tables read: config, eval/results.json and metrics.jsonl."""

import json
import os
import sys

import numpy as np
import pytest

from acai_tf.reproduction import paper_tables, run_records
from acai_tf.evaluation import results as results_lib


def lines_results(distance, smoothness):
    return {"lines": {"mean_distance": distance, "mean_smoothness": smoothness},
            "classifier": {"in_training_accuracy": 50.0}}


def test_training_protocol_median_of_the_last_n(tmp_path, fake_run):
    points = [(step, float(step)) for step in range(1, 31)]
    training = {"eval/mean_distance": [(s, v / 1000) for s, v in points],
                "eval/mean_smoothness": points + [(30, 100.0)],   # step 30 logged again
                "eval/latent_accuracy": points[:5]}
    workdir = fake_run(tmp_path, "run", training=training)
    medians = run_records.training_medians(workdir, last_n=20)
    assert medians["eval/mean_distance"] == pytest.approx(np.median(np.arange(11, 31)) / 1000)
    assert medians["eval/mean_smoothness"] == pytest.approx(np.median([*range(11, 30), 100]))
    assert medians["eval/latent_accuracy"] == 3.0                 # fewer than 20: all of them
    assert run_records.training_medians(str(tmp_path / "none")) == {}

    run = run_records.load_run(workdir, last_n=20)
    table = paper_tables.build_table("table1_lines_training", [run])
    cells = {row[:3]: row[3] for row in table["rows"]}
    assert cells[("lines32", 64, "Mean distance (×10³)")]["acai"][0] == pytest.approx(20.5)
    assert "median of the last 20 training-time evaluations" in paper_tables.to_markdown(table)


def test_missing_results_policies(tmp_path, fake_run):
    with_results = fake_run(tmp_path, "done", results=lines_results(0.0, 0.0))
    without = fake_run(tmp_path, "todo", training={"eval/mean_distance": [(1, 0.5)]})
    with pytest.raises(run_records.ReportError, match="todo/eval/results.json does not exist"):
        run_records.collect_runs([with_results, without])
    runs = run_records.collect_runs([with_results, without], missing="skip")
    assert [run.results is None for run in runs] == [False, True]

    # The tables never evaluate: a run without results names the command that evaluates it.
    with pytest.raises(run_records.ReportError, match=f"flags.evaluate --workdir={without}"):
        run_records.collect_runs([without])
    with pytest.raises(run_records.ReportError, match="missing must be one of error, skip"):
        run_records.collect_runs([without], missing="evaluate")
    # A results.json written afterwards is read as it is.
    os.makedirs(os.path.join(without, "eval"))
    with open(results_lib.results_path(without), "w") as f:
        json.dump(lines_results(0.1, 0.1), f)
    runs = run_records.collect_runs([with_results, without])
    assert runs[1].results["lines"]["mean_distance"] == 0.1
    with pytest.raises(run_records.ReportError, match="no config.json|does not exist"):
        run_records.collect_runs([str(tmp_path)])


def test_group_warnings_for_runs_that_differ_in_more_than_the_seed(tmp_path, fake_run):
    runs = [run_records.load_run(fake_run(tmp_path, "a", seed=0)),
            run_records.load_run(fake_run(tmp_path, "b", seed=1)),
            run_records.load_run(fake_run(tmp_path, "c", seed=2, depth=32))]
    warnings = run_records.group_warnings(runs)
    assert len(warnings) == 1 and "lines32 / acai / latent 64" in warnings[0]
    assert run_records.group_warnings(runs[:2]) == []


def test_precision_history_gives_each_switch_with_its_kimg():
    train = {"precision": "float32", "batch": 64}
    assert run_records.precision_history(train, []) == "float32"  # records before run records
    starts = [{"precision": "float32", "from_step": 0}, {"precision": "float32", "from_step": 10}]
    assert run_records.precision_history(train, starts) == "float32"
    starts += [{"precision": "mixed_bfloat16", "from_step": 87040},
               {"precision": "mixed_bfloat16", "from_step": 90000},
               {"precision": "float32", "from_step": 99328}]
    assert run_records.precision_history(train, starts) == (
        "float32, mixed_bfloat16 from 5,440 kimg, float32 from 6,208 kimg")
    # Run records older than the "precision" field count as the config's.
    assert run_records.precision_history({"precision": "mixed_bfloat16"}, [{}]) == (
        "mixed_bfloat16")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
