"""End-to-end tests of checkpoint_eval on briefly trained tiny models: real MNIST and lines32."""

import json
import os
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator

from acai_tf import datasets, models
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.config import ConfigError, ExperimentConfig, ModelConfig, TrainConfig
from acai_tf.evaluation import checkpoint_eval, results as results_lib

FAST = checkpoint_eval.EvalOptions(n_init=2, max_train_examples=3000, figure_rows=3, figure_steps=5)


def make_run(workdir: str, dataset: str, data_dir=None, name: str = "baseline",
             steps: int = 40, seed: int = 0) -> ExperimentConfig:
    """Writes config.json and checkpoints of a tiny model trained `steps` (even) steps."""
    info = datasets.get_info(dataset)
    # 4 x 4 x 4 = 64 latent dimensions: small, yet enough for a linear probe to work.
    config = ExperimentConfig(
        model=ModelConfig(name=name, depth=8, latent=4, latent_width=4, colors=info.colors,
                          nclass=info.nclass),
        train=TrainConfig(dataset=dataset, data_dir=data_dir, batch=16,
                          train_kimg=steps * 16 / 1024, seed=seed))
    os.makedirs(workdir, exist_ok=True)
    with open(workdir_lib.config_path(workdir), "w") as f:
        f.write(config.to_json())
    model = models.build(config.model, seed=seed)
    model.compile()
    stream = datasets.train_stream(dataset, batch_size=16, seed=seed, data_dir=data_dir)
    manager = workdir_lib.checkpoint_manager(workdir,
                                             tf.train.Checkpoint(**model.checkpoint_items()))
    # Two checkpoints, half-way and at the end.
    for epoch in range(2):
        model.fit(stream, steps_per_epoch=steps // 2, epochs=1, verbose=0, shuffle=False)
        manager.save(checkpoint_number=int(model.optimizer.iterations.numpy()))
    return config


def read_tensorboard(path: str) -> dict[str, list[tuple[int, float]]]:
    accumulator = event_accumulator.EventAccumulator(
        path, size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    return {tag: [(event.step, float(tf.make_ndarray(event.tensor_proto)))
                  for event in accumulator.Tensors(tag)]
            for tag in accumulator.Tags()["tensors"]}


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory, mnist_data_dir):
    workdir = str(tmp_path_factory.mktemp("mnist_run"))
    make_run(workdir, "mnist32", mnist_data_dir)
    return workdir


def test_evaluate_on_real_mnist(mnist_run, mnist_data_dir):
    logged = []
    results = checkpoint_eval.evaluate(mnist_run, options=FAST, log=logged.append)

    assert results["dataset"] == "mnist32" and results["model"] == "baseline"
    assert results["latent_dim"] == 64 and results["step"] == 40 and results["kimg"] == 0.625
    assert results["checkpoint"] == os.path.join("ckpt", "ckpt-40")
    assert results["lines"] is None
    classifier, clustering = results["classifier"], results["clustering"]
    assert 0.0 <= classifier["in_training_accuracy"] <= 100.0
    # A linear probe on the latents of even a barely trained MNIST autoencoder is far above
    # the 10% of chance.
    assert classifier["probe_accuracy"] > 70.0
    assert clustering["n_init"] == 2 and clustering["train_examples"] == 3000
    assert 20.0 < clustering["accuracy"] <= 100.0
    assert all(value >= 0 for value in results["wall_time_s"].values())
    assert any("probe" in line for line in logged)

    with open(results_lib.results_path(mnist_run)) as f:
        assert json.load(f) == results
    with Image.open(results_lib.figure_path(mnist_run)) as figure:
        # 3 rows of [input | 5 interpolants | input] with two 4-pixel gaps.
        assert figure.size == (7 * 32 + 8, 3 * 32)
    # The in-training accuracy is that of model.classify over the whole test set.
    model, *_ = workdir_lib.restore_model(mnist_run)
    correct = 0
    for batch in datasets.test_set("mnist32", data_dir=mnist_data_dir).batch(2500):
        predictions = np.argmax(model.classify(batch["image"]), axis=-1)
        correct += int(np.sum(predictions == batch["label"].numpy()))
    assert classifier["in_training_accuracy"] == pytest.approx(correct / 100.0)

    scalars = read_tensorboard(os.path.join(mnist_run, "tb", "eval"))
    assert scalars["eval/probe_accuracy"] == [(40, pytest.approx(classifier["probe_accuracy"]))]
    assert set(scalars) == {"eval/latent_accuracy", "eval/probe_accuracy",
                            "eval/clustering_accuracy"}


def test_evaluate_lines32_runs_the_benchmark(tmp_path):
    workdir = str(tmp_path / "lines")
    make_run(workdir, "lines32", name="acai", steps=4)
    options = checkpoint_eval.EvalOptions(figure_rows=2, figure_steps=4, parts=("lines",))
    results = checkpoint_eval.evaluate(workdir, options=options, log=lambda line: None)
    assert 0.0 <= results["lines"]["mean_distance"] <= 2.0
    smoothness = results["lines"]["mean_smoothness"]
    assert smoothness is None or smoothness >= 0.0   # None: every path was too short to score
    assert results["classifier"] is None and results["clustering"] is None
    assert results["wall_time_s"]["lines"] < 60.0


def test_older_checkpoint_by_path(mnist_run):
    results = checkpoint_eval.evaluate(
        mnist_run, checkpoint=os.path.join(mnist_run, "ckpt", "ckpt-20"),
        options=checkpoint_eval.EvalOptions(parts=("lines",), figure_rows=1),
        log=lambda line: None)
    # lines does not apply to MNIST: only the figure is made.
    assert results["step"] == 20 and results["checkpoint"] == os.path.join("ckpt", "ckpt-20")
    assert results["classifier"] is None and results["clustering"] is None
    assert set(results["wall_time_s"]) == {"restore", "figure", "total"}


def test_bad_workdirs_raise_one_line_errors(tmp_path, mock_mnist_data_dir):
    with pytest.raises(workdir_lib.WorkdirError, match="config.json does not exist"):
        checkpoint_eval.evaluate(str(tmp_path / "missing"))

    untrained = str(tmp_path / "untrained")
    os.makedirs(untrained)
    config = ExperimentConfig(train=TrainConfig(dataset="mnist32", data_dir=mock_mnist_data_dir))
    with open(workdir_lib.config_path(untrained), "w") as f:
        f.write(config.to_json())
    with pytest.raises(workdir_lib.WorkdirError, match="no checkpoint"):
        checkpoint_eval.evaluate(untrained)
    with pytest.raises(workdir_lib.WorkdirError, match="does not exist"):
        checkpoint_eval.evaluate(untrained, checkpoint=str(tmp_path / "ckpt-7"))
    assert not os.path.exists(os.path.join(untrained, "eval"))


def test_unprepared_dataset_and_unknown_part(mnist_run, tmp_path):
    with pytest.raises(datasets.DatasetNotPreparedError, match="prepare_data"):
        checkpoint_eval.evaluate(mnist_run,
                                 options=checkpoint_eval.EvalOptions(data_dir=str(tmp_path)))
    with pytest.raises(ConfigError, match="unknown evaluation"):
        checkpoint_eval.evaluate(mnist_run, options=checkpoint_eval.EvalOptions(parts=("speed",)))


def test_checkpoint_of_another_config_is_a_workdir_error(mnist_run, tmp_path):
    workdir = str(tmp_path / "changed")
    os.makedirs(workdir)
    config = workdir_lib.load_config(mnist_run)
    changed = ExperimentConfig(model=ModelConfig(**{**config.model.to_dict(), "latent": 8}),
                               train=config.train)
    with open(workdir_lib.config_path(workdir), "w") as f:
        f.write(changed.to_json())
    with pytest.raises(workdir_lib.WorkdirError, match="cannot restore"):
        checkpoint_eval.evaluate(workdir, checkpoint=workdir_lib.latest_checkpoint(mnist_run))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
