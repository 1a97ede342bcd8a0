"""Mixed precision and the per-run record: float32 where the maths needs it, the chosen conv
gradient path and the machine written down, float32 exports whatever the training precision."""

import json
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from acai_tf import config as config_lib
from acai_tf import models
from acai_tf.speed import fast_conv
from acai_tf.training import train_lib
from acai_tf.serving import export_lib

import tiny

TINY = tiny.model_config("acai")
SMALL_EVALS = tiny.eval_settings(grid_rows=2, samples_side=2)


def _batch(size=16):
    rng = np.random.default_rng(0)
    return {"image": tf.constant(rng.uniform(-1, 1, (size, 32, 32, 1)), tf.float32),
            "label": tf.constant(rng.integers(0, 10, size))}


@pytest.mark.parametrize("precision, compute", [("mixed_bfloat16", "bfloat16"),
                                                ("mixed_float16", "float16")])
def test_networks_compute_in_the_policy_but_keep_float32_variables_and_outputs(precision,
                                                                                compute):
    model = models.build(TINY, seed=0, precision=precision)
    convs = [layer for layer in model.encoder.layers + model.critic.layers[0].layers
             if isinstance(layer, keras.layers.Conv2D)]
    assert convs and all(layer.compute_dtype == compute for layer in convs)
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    images = _batch()["image"]
    assert model.encode(images).dtype == tf.float32
    assert model.decode(model.encode(images)).dtype == tf.float32
    assert model.critic(images).dtype == tf.float32


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16", "mixed_float16"])
def test_a_train_step_logs_finite_float32_values(precision):
    model = models.build(TINY, seed=0, precision=precision)
    model.compile()
    scaled = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (precision == "mixed_float16")
    assert isinstance(model.critic_optimizer, keras.optimizers.LossScaleOptimizer) == scaled
    before = [v.numpy() for v in model.decoder.trainable_variables]
    logs = tf.function(model.train_step)(_batch())
    for key, value in logs.items():
        assert value.dtype == tf.float32 and np.isfinite(value.numpy()), key
    after = [v.numpy() for v in model.decoder.trainable_variables]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))


def test_the_float32_step_is_unchanged_by_the_precision_plumbing():
    # Same seed, same batch: float32 models built with and without the precision argument agree.
    logs = []
    for kwargs in ({}, {"precision": "float32"}):
        model = models.build(TINY, seed=3, **kwargs)
        model.compile()
        logs.append(tf.function(model.train_step)(_batch()))
    for key in logs[0]:
        np.testing.assert_array_equal(logs[0][key].numpy(), logs[1][key].numpy())


def test_config_lists_the_gradient_paths_fast_conv_knows():
    assert config_lib.CONV_GRADIENTS == fast_conv.GRADIENT_PATHS


def test_bad_precision_is_a_config_error():
    with pytest.raises(config_lib.ConfigError, match="precision must be one of"):
        config_lib.TrainConfig(precision="float64")


def test_a_bfloat16_run_records_its_start_and_exports_float32_signatures(tmp_path):
    workdir, export_dir = tmp_path / "run", tmp_path / "export"
    config = tiny.experiment(TINY, train_kimg=0.125, precision="mixed_bfloat16")
    train_lib.train(config, str(workdir), eval_settings=SMALL_EVALS, log=lambda line: None)
    more = tiny.experiment(TINY, precision="mixed_bfloat16", conv_gradient="forward")
    train_lib.train(more, str(workdir), eval_settings=SMALL_EVALS, log=lambda line: None)

    runs = json.loads((workdir / "config.json").read_text())["runs"]
    assert len(runs) == 2
    assert runs[0]["conv_gradient"] == fast_conv.resolve("auto")
    assert runs[1]["conv_gradient"] == "forward"
    for record in runs:
        assert record["precision"] == "mixed_bfloat16"
        assert isinstance(record["onednn"], bool) and record["tensorflow"] == tf.__version__

    result = export_lib.export(str(workdir), str(export_dir))
    signatures = export_lib.read_signatures(result.path)
    for key in ("encode", "decode", "reconstruct"):
        for tensor in list(signatures[key].inputs.values()) + list(
                signatures[key].outputs.values()):
            assert tensor.dtype == tf.float32.as_datatype_enum, (key, tensor)
    images = signatures["interpolate"].outputs["images"]
    assert images.dtype == tf.float32.as_datatype_enum


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
