"""acai_tf.reproduction.mnist_curves: MNIST learning curves from saved records, and the
milestone evaluations that long_runs saves beside them."""

import json
import os
import sys

import pytest

from acai_tf.reproduction import long_runs, mnist_curves
from acai_tf.training import metrics_log


def make_record(folder, model, latent, accuracies, kmeans=()):
    """A record: config.json, one report per 64 kimg with `accuracies`, and for every
    (step, accuracy) in `kmeans` a milestone evaluation."""
    os.makedirs(folder)
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
        json.dump({"model": {"name": model, "latent": latent, "latent_width": 4},
                   "train": {"batch": 64}}, f)
    for index, accuracy in enumerate(accuracies):
        metrics_log.append(folder, (index + 1) * 1024, (index + 1) * 64.0,
                           {"eval/latent_accuracy": accuracy})
    for step, accuracy in kmeans:
        os.makedirs(os.path.join(folder, "milestones"), exist_ok=True)
        with open(os.path.join(folder, "milestones", f"ckpt-{step}.json"), "w") as f:
            json.dump({"kimg": step * 64 / 1024, "clustering": {"accuracy": accuracy}}, f)


def test_records_curves_and_table(tmp_path):
    records = tmp_path / "records"
    make_record(str(records / "mnist_acai_latent16_seed0"), "acai", 16,
                [float(value) for value in range(60, 90)], kmeans=[(16384, 80.5)])
    make_record(str(records / "mnist_baseline_latent2_seed0"), "baseline", 2, [50.0, 70.0, 60.0])
    os.makedirs(records / "lines_acai_seed0")  # not an MNIST record: ignored

    runs = mnist_curves.load_records(str(records))
    assert [(run["model"], run["latent_dim"]) for run in runs] == [("baseline", 32),
                                                                   ("acai", 256)]
    assert runs[1]["kmeans"] == [(1024.0, 80.5)]
    paths = mnist_curves.write(str(records), str(tmp_path / "out"))
    assert os.path.getsize(paths[0]) > 1000 and paths[0].endswith("mnist_curves.png")
    text = open(paths[1], encoding="utf-8").read()
    # The median of the last 20 of 60..89 is that of 70..89: 79.5; of three reports, 60.
    assert "| mnist_acai_latent16_seed0 | 1920 | 30 | 89.00 | 79.50 (last 20) | 80.50 at 1024 |" \
        in text
    assert "| mnist_baseline_latent2_seed0 | 192 | 3 | 60.00 | 60.00 (last 3) | - |" in text


def test_no_record_is_a_one_line_error(tmp_path):
    with pytest.raises(mnist_curves.CurvesError, match="no MNIST record"):
        mnist_curves.write(str(tmp_path), str(tmp_path))


def test_long_runs_saves_milestone_evaluations_with_the_records(tmp_path):
    runs, records = tmp_path / "runs", tmp_path / "records"
    workdir = runs / "mnist" / "runs" / "acai" / "latent16" / "seed0"
    make_record(str(workdir), "acai", 16, [60.0, 70.0], kmeans=[(16384, 80.5)])
    os.makedirs(workdir / "ckpt")
    config = json.loads((workdir / "config.json").read_text())
    config["runs"] = [{"started": "2026-12-07T21:00:00+0000", "from_step": 0}]
    config["train"].update(train_kimg=16384, precision="float32")
    (workdir / "config.json").write_text(json.dumps(config))
    long_runs.save_all(str(runs), str(records))
    saved = records / "mnist_acai_latent16_seed0"
    assert json.loads((saved / "milestones" / "ckpt-16384.json").read_text())["clustering"] == {
        "accuracy": 80.5}
    assert mnist_curves.load_records(str(records))[0]["kmeans"] == [(1024.0, 80.5)]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
