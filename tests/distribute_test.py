"""acai_tf.training.distribute and training under MirroredStrategy on two logical CPU devices.

Logical devices must be configured before TensorFlow initialises, so the distributed work runs
in one fresh subprocess (this file, imported by `python -c`), which prints its measurements as
JSON; the tests check them. Keep TensorFlow out of this module's top level for that reason.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import python_process
import tiny

REPO_ROOT = Path(__file__).absolute().parents[1]
MODELS = ("baseline", "dropout", "denoising", "vae", "aae", "vqvae", "acai")


def _fit_steps(model, batch, steps):
    import tensorflow as tf

    data = tf.data.Dataset.from_tensors(batch).repeat()
    history = model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return {key: float(values[-1]) for key, values in history.history.items()}


def _sgd_step_deltas(strategy, batch):
    """Weights moved by one SGD step of ACAI (and its logs) under `strategy`."""
    import keras

    from acai_tf import models

    with strategy.scope():
        model = models.build(tiny.model_config("acai"), seed=3)
        model.compile(optimizer=keras.optimizers.SGD(0.5),
                      classifier_optimizer=keras.optimizers.SGD(0.5),
                      critic_optimizer=keras.optimizers.SGD(0.5))
    before = [np.array(w) for w in model.get_weights()]
    logs = _fit_steps(model, batch, 1)
    deltas = [np.array(w) - b for w, b in zip(model.get_weights(), before)]
    return deltas, logs


def child_main(workdir):
    """Runs in the subprocess: two logical CPUs, then every distributed measurement."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from acai_tf.training import distribute, train_lib
    from acai_tf.config import ConfigError

    results = {}
    start = time.monotonic()
    mirrored = distribute.get_strategy("mirrored")
    results["replicas"] = mirrored.num_replicas_in_sync
    try:
        distribute.check_global_batch(mirrored, 15)
    except ConfigError as error:
        results["odd_batch_error"] = str(error)
    from acai_tf import models

    # Every model trains through fit() on two replicas.
    batch = tiny.lines_batch(16, seed=0)
    results["losses"] = {}
    for name in MODELS:
        with mirrored.scope():
            model = models.build(tiny.model_config(name), seed=0)
            model.compile()
        results["losses"][name] = _fit_steps(model, batch, 2)

    # One SGD step on [A, A] over two replicas (each sees A) equals one on one device.
    half = tiny.lines_batch(8, seed=1)
    doubled = {key: np.concatenate([value, value]) for key, value in half.items()}
    single, single_logs = _sgd_step_deltas(tf.distribute.get_strategy(), doubled)
    replicated, replicated_logs = _sgd_step_deltas(mirrored, doubled)
    results["max_delta"] = max(float(np.abs(d).max()) for d in single)
    results["max_delta_difference"] = max(
        float(np.abs(a - b).max()) for a, b in zip(single, replicated))
    results["single_logs"], results["replicated_logs"] = single_logs, replicated_logs

    # The whole training library on two replicas, evaluations included.
    config = tiny.experiment("acai", train_kimg=0.125, report_kimg=0.0625, strategy="mirrored")
    settings = tiny.eval_settings()
    # The strategy made above: two collective strategies over the same devices in one process
    # would reuse collective instance keys.
    summary = train_lib.train(config, workdir, eval_settings=settings, strategy=mirrored,
                              log=lambda line: None)
    results["train_summary"] = {"step": summary["step"], "metrics": summary["metrics"]}
    results["seconds"] = time.monotonic() - start
    print("RESULTS " + json.dumps(results))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("mirrored") / "run"
    env = python_process.env(REPO_ROOT, TF_CPP_MIN_LOG_LEVEL="2")
    code = (f"import sys; sys.path.insert(0, {str(REPO_ROOT / 'tests')!r}); "
            f"import distribute_test; distribute_test.child_main({str(workdir)!r})")
    process = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                             capture_output=True, text=True, timeout=600, check=False)
    lines = [line for line in process.stdout.splitlines() if line.startswith("RESULTS ")]
    assert process.returncode == 0 and lines, process.stderr[-3000:]
    return json.loads(lines[-1][len("RESULTS "):])


def test_mirrored_uses_both_logical_devices_and_needs_a_divisible_batch(results):
    assert results["replicas"] == 2
    assert results["odd_batch_error"] == (
        "global batch 15 is not divisible by the 2 replicas of the MirroredStrategy")


@pytest.mark.parametrize("name", MODELS)
def test_every_model_trains_on_two_replicas(results, name):
    logs = results["losses"][name]
    assert "losses/reconstruction" in logs
    assert all(np.isfinite(value) for value in logs.values()), logs


def test_one_sgd_step_on_two_replicas_equals_one_on_one_device(results):
    # A wrong gradient scale (raw means) would make the two-replica step twice as large; what
    # remains is float32 summation order.
    assert results["max_delta"] > 1e-2
    assert results["max_delta_difference"] < 1e-4 * results["max_delta"]
    single, replicated = results["single_logs"], results["replicated_logs"]
    assert set(single) == set(replicated)
    for key in single:
        assert replicated[key] == pytest.approx(single[key], rel=1e-5, abs=1e-7), key


def test_train_lib_runs_under_mirrored_strategy(results):
    summary = results["train_summary"]
    assert summary["step"] == 8
    assert {"eval/mean_distance", "eval/latent_accuracy", "losses/critic"} <= set(
        summary["metrics"])


def test_strategy_names():
    from acai_tf.training import distribute
    from acai_tf.config import ConfigError

    assert distribute.STRATEGIES == ("auto", "default", "one_device", "mirrored",
                                     "multi_worker", "tpu")
    with pytest.raises(ConfigError, match="unknown strategy 'gpu'"):
        distribute.get_strategy("gpu")
    default = distribute.get_strategy("default")
    assert distribute.is_chief(default) and default.num_replicas_in_sync == 1
    assert distribute.check_global_batch(default, 7) == 7


def test_multi_worker_without_tf_config_is_a_clear_error(monkeypatch):
    from acai_tf.training import distribute
    from acai_tf.config import ConfigError

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="needs the TF_CONFIG environment variable"):
        distribute.get_strategy("multi_worker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ConfigError, match="TF_CONFIG is not valid JSON"):
        distribute.get_strategy("multi_worker")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
