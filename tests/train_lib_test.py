"""End-to-end tests of acai_tf.training.train_lib.train on lines32 and a mock MNIST (tiny
models)."""

import dataclasses
import os
import re
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from acai_tf import datasets, explosion
from acai_tf.training import callbacks, metrics_log, tensorboard_hparams, train_lib
from acai_tf.outputs import workdir as workdir_lib

import tiny

SMALL_EVALS = tiny.eval_settings()
GRIDS = ("reconstruction", "interpolation", "slerp", "samples")


def run(config, workdir, **kwargs):
    lines = []
    summary = train_lib.train(config, str(workdir), eval_settings=SMALL_EVALS, log=lines.append,
                              **kwargs)
    return summary, lines


def read_tensor_events(workdir):
    """{tag: [(step, value)]} of the TF2 summaries under tb/train."""
    path = os.path.join(workdir, "tb", "train")
    accumulator = event_accumulator.EventAccumulator(
        path, size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    return {tag: [(event.step, tf.make_ndarray(event.tensor_proto))
                  for event in accumulator.Tensors(tag)]
            for tag in accumulator.Tags()["tensors"]}


def snapshot(directory):
    return {path: os.stat(os.path.join(root, path)).st_mtime_ns
            for root, _, files in os.walk(directory) for path in files}


def test_lines32_run_writes_scalars_images_checkpoints_and_resumes(tmp_path):
    workdir = tmp_path / "run"
    config = tiny.experiment()
    summary, lines = run(config, workdir)

    # 0.25 kimg at batch 16 = 16 steps, reported every 8 steps.
    assert summary["step"] == 16 and summary["kimg"] == 0.25 and summary["resumed_from"] == 0
    assert workdir_lib.load_config(str(workdir)) == config
    events = read_tensor_events(str(workdir))
    expected = {"losses/reconstruction", "losses/critic", "losses/classifier",
                "monitors/alpha_mean", "monitors/images_per_second", "monitors/kimg",
                "monitors/lr_ae", "monitors/lr_classifier", "monitors/lr_critic",
                "eval/mean_distance", "eval/mean_smoothness", "eval/latent_accuracy"}
    assert expected | {f"images/{name}" for name in GRIDS} <= set(events)
    assert [step for step, _ in events["losses/reconstruction"]] == [8, 16]
    assert all(np.isfinite(value) for _, value in events["losses/reconstruction"])
    assert events["monitors/lr_critic"][-1][1] == pytest.approx(1e-4)
    assert 0 <= events["eval/latent_accuracy"][-1][1] <= 100
    # Image summaries hold the encoded PNG: [width, height, png bytes].
    width, height = (int(v) for v in events["images/reconstruction"][0][1][:2])
    assert (width, height) == (2 * 2 * 32, 4 * 32)
    assert sorted(os.listdir(workdir / "images")) == sorted(
        f"{name}_{kimg}.png" for name in GRIDS for kimg in ("000000.1", "000000.2"))
    assert tf.train.latest_checkpoint(str(workdir / "ckpt")).endswith("ckpt-16")
    assert sum(line.startswith("kimg ") for line in lines) == 2
    assert "eval/mean_distance" in lines[-1] and "img/s" in lines[-1]
    assert set(summary["metrics"]) >= expected
    # metrics.jsonl holds every report's scalars, equal to TensorBoard's.
    records = metrics_log.read(str(workdir))
    assert [(r["step"], r["kimg"]) for r in records] == [(8, 0.125), (16, 0.25)]
    assert expected <= set(records[-1])
    assert [r["losses/reconstruction"] for r in records] == pytest.approx(
        [float(value) for _, value in events["losses/reconstruction"]])
    # The run is a row of TensorBoard's HParams dashboard, its metrics beside it in tb/train.
    sessions = tensorboard_hparams.read_sessions(str(workdir))
    assert list(sessions) == [os.path.join("tb", "train")]
    assert sessions[os.path.join("tb", "train")]["model.name"] == config.model.name
    assert sessions[os.path.join("tb", "train")]["train.seed"] == config.train.seed

    model, _, _, step = workdir_lib.restore_model(str(workdir))
    assert step == 16 and model.encode(np.zeros((1, 32, 32, 1), np.float32)).shape == (1, 4, 4, 2)

    # Rerunning the finished run does nothing (and records no start); a longer one continues
    # from step 16, recorded as a second start from that step.
    assert [r["from_step"] for r in workdir_lib.load_run_records(str(workdir))] == [0]
    again, _ = run(config, workdir)
    assert again["step"] == 16 and again["resumed_from"] == 16
    assert [r["from_step"] for r in workdir_lib.load_run_records(str(workdir))] == [0]
    longer = dataclasses.replace(config, train=dataclasses.replace(config.train, train_kimg=0.375))
    resumed, _ = run(longer, workdir)
    assert resumed["resumed_from"] == 16 and resumed["step"] == 24
    assert [step for step, _ in read_tensor_events(str(workdir))["losses/reconstruction"]] == [
        8, 16, 24]
    assert [r["step"] for r in metrics_log.read(str(workdir))] == [8, 16, 24]
    assert workdir_lib.load_config(str(workdir)).train.train_kimg == 0.375
    assert [r["from_step"] for r in workdir_lib.load_run_records(str(workdir))] == [0, 16]


def test_a_different_config_in_a_workdir_is_refused_untouched(tmp_path):
    workdir = tmp_path / "run"
    (workdir / "ckpt").mkdir(parents=True)
    (workdir / "config.json").write_text(tiny.experiment().to_json())
    (workdir / "ckpt" / "checkpoint").write_text("model_checkpoint_path: \"ckpt-8\"\n")
    before = snapshot(workdir)
    with pytest.raises(workdir_lib.WorkdirError, match=r"different config \(train.seed: 0 -> 1\)"):
        run(tiny.experiment(seed=1), workdir)
    (workdir / "config.json").unlink()
    with pytest.raises(workdir_lib.WorkdirError, match="checkpoints but no config.json"):
        run(tiny.experiment(), workdir)
    assert snapshot(workdir) == {path: mtime for path, mtime in before.items()
                                 if path != "config.json"}


def test_a_run_switches_between_float32_and_bfloat16_but_not_to_float16(tmp_path):
    workdir = tmp_path / "run"
    config = tiny.experiment(train_kimg=0.125)
    run(config, workdir)

    def stage(precision, train_kimg):
        return dataclasses.replace(config, train=dataclasses.replace(
            config.train, precision=precision, train_kimg=train_kimg))

    # float32 -> mixed_bfloat16 -> float32: each stage restores the last one's weights and step.
    resumed, lines = run(stage("mixed_bfloat16", 0.25), workdir)
    assert resumed["resumed_from"] == 8 and resumed["step"] == 16
    assert "precision changes from float32 to mixed_bfloat16" in "\n".join(lines)
    assert np.isfinite(resumed["metrics"]["losses/reconstruction"])
    again, _ = run(stage("float32", 0.375), workdir)
    assert again["resumed_from"] == 16 and again["step"] == 24
    records = workdir_lib.load_run_records(str(workdir))
    assert [(r["from_step"], r["precision"]) for r in records] == [
        (0, "float32"), (8, "mixed_bfloat16"), (16, "float32")]
    # mixed_float16 adds a loss scale to the checkpoint: refused before anything is written.
    before = snapshot(workdir)
    with pytest.raises(train_lib.ConfigError, match="trained in float32, not mixed_float16"):
        run(stage("mixed_float16", 0.5), workdir)
    assert snapshot(workdir) == before


def test_invalid_requests_fail_before_writing(tmp_path):
    workdir = tmp_path / "run"
    with pytest.raises(train_lib.ConfigError, match="unknown dataset"):
        run(tiny.experiment(dataset="no_such"), workdir)
    wrong_colors = dataclasses.replace(tiny.experiment(), model=dataclasses.replace(
        tiny.experiment().model, colors=3))
    with pytest.raises(train_lib.ConfigError, match="colors 3 \\(dataset: 1\\)"):
        run(wrong_colors, workdir)
    with pytest.raises(datasets.DatasetNotPreparedError):
        run(tiny.experiment(dataset="mnist32", data_dir=str(tmp_path / "empty")), workdir)
    assert not workdir.exists()


class ScaleDecoderOutput(keras.callbacks.Callback):
    """After the first report (and its checkpoint), multiplies the decoder's output kernel.

    The next steps then run forward and backward through the wrecked weights: their losses are
    what training really produces, not edited logs.
    """

    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            kernel = self.model.decoder.get_layer("out").kernel
            kernel.assign(kernel * self.factor)


def assert_latest_checkpoint_is_healthy(workdir, step):
    """The newest checkpoint is ckpt-<step> and restores to finite, unscaled weights."""
    latest = tf.train.latest_checkpoint(str(workdir / "ckpt"))
    assert workdir_lib.checkpoint_step(latest) == step
    model, _, _, _ = workdir_lib.restore_model(str(workdir))
    assert all(np.isfinite(v.numpy()).all() for v in model.weights)
    assert np.abs(model.decoder.get_layer("out").kernel.numpy()).max() < 10


def test_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    workdir = tmp_path / "run"
    # Healthy for the first report period (8 steps, checkpointed), then infinite weights.
    with pytest.raises(callbacks.NonFiniteLossError,
                       match=r"^non-finite losses/reconstruction at step 9$"):
        train_lib.train(tiny.experiment("baseline"), str(workdir), eval_settings=None,
                        extra_callbacks=[ScaleDecoderOutput(np.inf)], log=lambda line: None)
    assert_latest_checkpoint_is_healthy(workdir, 8)


def test_exploding_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    workdir = tmp_path / "run"
    # The guard judges once it has seen 9 blocks of 32 steps (288): the first report, at
    # 320 steps of batch 16, is past its warm-up. Then the output grows 1e4-fold: finite but
    # wrecked, the reconstruction error about 1e8 times its level.
    config = tiny.experiment("baseline", train_kimg=10, report_kimg=5)
    with pytest.raises(callbacks.LossExplosionError) as error:
        train_lib.train(config, str(workdir), eval_settings=None,
                        extra_callbacks=[ScaleDecoderOutput(1e4)], log=lambda line: None)
    message = str(error.value)
    assert re.fullmatch(
        r"losses/reconstruction exploded at step 321: mean (\S+) over the last 32 steps, above "
        rf"{explosion.DEFAULT_FACTOR:g} x its reference level (\S+) \+ {explosion.FLOOR:g}; "
        r"nothing was saved after the blow-up \(the check is --explosion_factor, 0 turns it "
        r"off\)", message), message
    level, reference = (float(x) for x in re.findall(r"mean (\S+) .* level (\S+) ", message)[0])
    assert np.isfinite(level) and level > 1e3 and 0 < reference < 1
    assert_latest_checkpoint_is_healthy(workdir, 320)
    # With the check off the same run goes on, and would have saved the wrecked model.
    off = dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                explosion_factor=0.0))
    summary = train_lib.train(off, str(tmp_path / "off"), eval_settings=None,
                              extra_callbacks=[ScaleDecoderOutput(1e4)], log=lambda line: None)
    assert summary["step"] == 640 and summary["metrics"]["losses/reconstruction"] > 1e3


def test_mnist_run_reports_latent_accuracy_and_no_lines_metrics(tmp_path, mock_mnist_data_dir):
    workdir = tmp_path / "run"
    config = tiny.experiment("baseline", dataset="mnist32", train_kimg=0.125,
                             data_dir=mock_mnist_data_dir)
    summary, _ = run(config, workdir)
    assert summary["step"] == 8
    events = read_tensor_events(str(workdir))
    assert "eval/latent_accuracy" in events and "eval/mean_distance" not in events
    assert 0 <= summary["metrics"]["eval/latent_accuracy"] <= 100
    assert len(os.listdir(workdir / "images")) == len(GRIDS)


def test_scalar_logs_read_scalars_and_the_one_element_logs_of_multi_worker_runs():
    logs = {"losses/a": 1.5, "losses/b": np.array([2.0], np.float32),
            "losses/c": tf.constant([3.0])}
    assert callbacks.scalar_logs(logs) == {"losses/a": 1.5, "losses/b": 2.0, "losses/c": 3.0}
    assert callbacks.format_duration(3725) == "1h02m" and callbacks.format_duration(65) == "1m05s"


def test_data_seed_is_the_seed_at_step_zero_and_differs_after():
    assert train_lib.data_seed(3, 0) == 3
    seeds = {train_lib.data_seed(3, step) for step in (8, 16, 24)}
    assert len(seeds) == 3 and all(0 <= seed < 2**32 for seed in seeds)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
