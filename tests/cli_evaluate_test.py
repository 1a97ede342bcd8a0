"""Tests for the flags.evaluate binary: a real MNIST run, and one-line errors for bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tensorflow as tf
from absl import flags

from acai_tf import datasets, models
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.config import ExperimentConfig, ModelConfig, TrainConfig
from acai_tf.cli import evaluate as evaluate_binary
from acai_tf.cli import runner

import python_process

# Not resolved: under Bazel this is the runfiles tree, which holds flags/ and acai_tf/.
REPO_ROOT = Path(__file__).absolute().parents[1]


def _evaluate_process(*args: str) -> subprocess.CompletedProcess:
    return python_process.run_module(REPO_ROOT, "flags.evaluate", *args, timeout=300)


def _errors(stderr: str) -> list[str]:
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory, mnist_data_dir):
    """A workdir with a tiny baseline trained 20 steps on real MNIST."""
    workdir = str(tmp_path_factory.mktemp("run"))
    config = ExperimentConfig(
        model=ModelConfig(name="baseline", depth=8, latent=4, latent_width=4),
        train=TrainConfig(dataset="mnist32", data_dir=mnist_data_dir, batch=16, train_kimg=1))
    with open(workdir_lib.config_path(workdir), "w") as f:
        f.write(config.to_json())
    model = models.build(config.model)
    model.compile()
    model.fit(datasets.train_stream("mnist32", batch_size=16, seed=0, data_dir=mnist_data_dir),
              steps_per_epoch=20, epochs=1, verbose=0, shuffle=False)
    workdir_lib.checkpoint_manager(workdir, tf.train.Checkpoint(**model.checkpoint_items())).save(
        checkpoint_number=20)
    return workdir


@pytest.fixture(name="run_main")
def fixture_run_main(capsys):
    """Runs the binary in-process with the given flags: (exit status, stdout, stderr).

    Each call parses into its own FlagValues, so that nothing leaks into absl's global flags.
    """

    def run(*args: str):
        flag_values = flags.FlagValues()
        evaluate_binary.define_flags(flag_values)
        try:  # parsed as the binary parses: a bad flag value exits 1 after one error line
            runner.parse_or_exit(["evaluate", *args], flag_values)
        except SystemExit as exit_:
            code = exit_.code
        else:
            code = evaluate_binary.evaluate_from_flags(flag_values)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_evaluates_a_real_mnist_run(mnist_run):
    result = _evaluate_process(f"--workdir={mnist_run}", "--n_init=2",
                               "--max_train_examples=2000")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "probe_accuracy" in result.stdout
    with open(os.path.join(mnist_run, "eval", "results.json")) as f:
        results = json.load(f)
    assert results["clustering"]["n_init"] == 2
    assert results["classifier"]["probe_accuracy"] > 50.0
    assert os.path.isfile(os.path.join(mnist_run, "eval", "interpolation.png"))


def test_missing_workdir_flag_is_one_line_in_a_real_process():
    result = _evaluate_process()
    assert result.returncode == 1
    assert _errors(result.stderr) == [
        "error: flag --workdir=None: Flag --workdir must have a value other than None."]


def test_workdir_without_config(run_main, tmp_path):
    code, _, err = run_main(f"--workdir={tmp_path}")
    assert code == 1
    assert _errors(err) == [f"error: {tmp_path}/config.json does not exist: is "
                            f"'{tmp_path}' a training workdir?"]


def test_workdir_without_checkpoint(run_main, tmp_path):
    with open(workdir_lib.config_path(str(tmp_path)), "w") as f:
        f.write(ExperimentConfig().to_json())
    code, _, err = run_main(f"--workdir={tmp_path}")
    assert code == 1
    assert _errors(err) == [f"error: no checkpoint in {tmp_path}/ckpt: train the model first"]


def test_dataset_not_prepared(run_main, mnist_run, tmp_path):
    code, _, err = run_main(f"--workdir={mnist_run}", f"--data_dir={tmp_path}")
    assert code == 1
    errors = _errors(err)
    assert len(errors) == 1 and "not prepared" in errors[0] and "prepare_data" in errors[0]
    assert not os.path.exists(os.path.join(mnist_run, "eval", "results.json.tmp"))


def test_a_flag_below_its_bound_is_one_line_in_a_real_process(tmp_path):
    result = _evaluate_process(f"--workdir={tmp_path}", "--max_train_examples=0")
    assert result.returncode == 1
    assert _errors(result.stderr) == [
        "error: flag --max_train_examples=0: 0 is not a positive integer"]


@pytest.mark.parametrize("flag, message", [
    ("--n_init=0", "error: flag --n_init=0: 0 is not a positive integer"),
    ("--batch_size=-5", "error: flag --batch_size=-5: -5 is not a positive integer"),
    ("--max_train_examples=0", "error: flag --max_train_examples=0: 0 is not a positive integer"),
    ("--parts=lines,speed",
     "error: unknown evaluation(s) speed; known: lines, classifier, clustering"),
])
def test_bad_flag_values(run_main, mnist_run, flag, message):
    code, _, err = run_main(f"--workdir={mnist_run}", flag)
    assert code == 1
    assert _errors(err) == [message]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
