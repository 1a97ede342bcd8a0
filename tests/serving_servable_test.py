"""Tests of the servable (acai_tf.serving.servable) and the warm-up requests checked against it.

In-process, on a tiny ACAI (and VAEs for sampling): the SavedModel is written and loaded back
with `tf.saved_model.load`, and its signatures are compared with the Keras model.
serving_export_lib_test.py does the comparison for every model, in a process that has only
TensorFlow; serving_models_config_test.py tests the models.config writer.
"""

import json
import os
import re
import sys

import numpy as np
import pytest
import tensorflow as tf

from acai_tf import models
from acai_tf.config import ExperimentConfig
from acai_tf.serving import servable, warmup
from acai_tf.serving.export_lib import read_signatures

import tiny

ATOL = 1e-5


def _config(name: str, **hparams) -> ExperimentConfig:
    return tiny.export_experiment(name, hparams)


def _images(seed: int, batch: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (batch, 32, 32, 1)).astype(np.float32)


def _save(path, config: ExperimentConfig):
    """Builds the model, moves every weight off its initial value, and saves the servable."""
    model = models.build(config.model, seed=0)
    rng = np.random.default_rng(0)
    for variable in model.weights:
        if variable.dtype == "float32":  # Not the VAE's int64 seed.
            variable.assign(variable + 0.05 * rng.standard_normal(variable.shape))
    servable.save(model, config, str(path))
    return model, str(path)


@pytest.fixture(scope="module", name="acai")
def fixture_acai(tmp_path_factory):
    """(model, SavedModel path) of a tiny ACAI; its signatures are deterministic."""
    return _save(tmp_path_factory.mktemp("acai") / "servable", _config("acai", advweight=0.25))


def test_signatures_match_the_keras_model(acai):
    model, path = acai
    loaded = tf.saved_model.load(path)
    assert sorted(loaded.signatures) == sorted(servable.SIGNATURE_KEYS)
    sig = loaded.signatures
    x, y = _images(0), _images(1)
    latent_map = model.encode(x).numpy()
    for key in ("encode", "serving_default"):
        got = sig[key](images=x)
        np.testing.assert_allclose(got["latent_map"], latent_map, atol=ATOL)
        np.testing.assert_allclose(got["latents"], latent_map.reshape(3, -1), atol=ATOL)
    latents = np.random.default_rng(2).standard_normal((3, model.latent_dim)).astype(np.float32)
    np.testing.assert_allclose(
        sig["decode"](latents=latents)["images"],
        model.decode(latents.reshape((3,) + model.model_config.latent_shape)), atol=ATOL)
    np.testing.assert_allclose(sig["reconstruct"](images=x)["images"], model.reconstruct(x),
                               atol=ATOL)
    for steps, method in ((2, "linear"), (5, "spherical"), (3, "linear")):
        got = sig["interpolate"](images_a=x, images_b=y, steps=tf.constant(steps),
                                 method=tf.constant(method))["images"]
        assert got.shape == (3, steps, 32, 32, 1)
        np.testing.assert_allclose(got, model.interpolate(x, y, steps, method), atol=ATOL)
    # Identical endpoints: slerp falls back to linear instead of dividing by sin(0).
    got = sig["interpolate"](images_a=x, images_b=x, steps=tf.constant(3),
                             method=tf.constant("spherical"))["images"]
    np.testing.assert_allclose(got, model.interpolate(x, x, 3, "spherical"), atol=ATOL)


def test_batches_of_any_size_are_served(acai):
    model, path = acai
    sig = tf.saved_model.load(path).signatures
    for batch in (1, 7):
        x = _images(batch, batch)
        np.testing.assert_allclose(sig["reconstruct"](images=x)["images"], model.reconstruct(x),
                                   atol=ATOL)


def test_only_the_encoder_decoder_path_is_saved(acai):
    model, path = acai
    reader = tf.train.load_checkpoint(os.path.join(path, "variables", "variables"))
    saved = [reader.get_tensor(key) for key in reader.get_variable_to_shape_map()
             if key.startswith("variables_used/")]
    names = [v.name for v in tf.saved_model.load(path).variables_used]
    assert len(saved) == len(names) == len(model.encoder.weights + model.decoder.weights)
    assert all(name.startswith(("encoder/", "decoder/")) for name in names), names
    for variable in model.critic.weights + model.classifier.weights:
        assert not any(np.array_equal(s, variable.numpy()) for s in saved), variable.path


def test_config_is_an_asset(acai):
    _, path = acai
    config = _config("acai", advweight=0.25)
    with open(os.path.join(path, "assets", servable.CONFIG_ASSET), encoding="utf-8") as f:
        assert ExperimentConfig.from_json(f.read()) == config
    asset = tf.saved_model.load(path).config_file.asset_path.numpy().decode()
    assert json.loads(tf.io.read_file(asset).numpy())["model"]["hparams"] == {"advweight": 0.25}


def _error(function, **inputs) -> str:
    """The message of the InvalidArgumentError that `function` raises on `inputs`.

    Inputs go in as tensors, which reach the graph as a server's would; Python callers giving
    numpy arrays of a wrong shape are stopped earlier, by the function's input binding.
    """
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        function(**{key: tf.constant(value) for key, value in inputs.items()})
    return str(info.value)


def test_malformed_inputs_are_rejected_with_clear_errors(acai):
    model, path = acai
    sig = tf.saved_model.load(path).signatures
    x = _images(0)
    interpolate = sig["interpolate"]
    steps, linear = tf.constant(4), tf.constant("linear")
    nan = x.copy()
    nan[1, 3, 4, 0] = np.nan
    expected_shape = "is not compatible with expected shape [?,32,32,1]"
    assert expected_shape in _error(sig["encode"], images=x[0])  # Rank 3.
    assert expected_shape in _error(sig["reconstruct"], images=np.zeros((2, 28, 28, 1), "f"))
    assert "expected to be a float tensor but is a int32" in _error(
        sig["encode"], images=tf.zeros((2, 32, 32, 1), tf.int32))
    assert "images must be finite" in _error(sig["encode"], images=nan)
    assert "images_b must be finite" in _error(interpolate, images_a=x, images_b=np.inf * x,
                                               steps=steps, method=linear)
    assert "expected shape [?,8]" in _error(sig["decode"], latents=np.zeros((2, 9), "f"))
    assert "latents must be finite" in _error(sig["decode"], latents=np.full((2, 8), np.inf, "f"))
    for bad_steps in (1, 0, -3):
        assert "steps must be at least 2" in _error(interpolate, images_a=x, images_b=x,
                                                    steps=tf.constant(bad_steps), method=linear)
    assert f"steps must be at most {servable.MAX_STEPS}" in _error(
        interpolate, images_a=x, images_b=x, steps=tf.constant(1000), method=linear)
    message = _error(interpolate, images_a=x, images_b=x, steps=steps, method=tf.constant("cubic"))
    assert "method must be linear or spherical, got] [cubic]" in message
    assert "same number of images" in _error(interpolate, images_a=x, images_b=x[:2],
                                             steps=steps, method=linear)
    with pytest.raises(TypeError, match=r"Can not cast TensorSpec\(shape=\(32, 32, 1\)"):
        sig["encode"](images=x[0])
    # Values outside [-1, 1] are served as they are, like the Keras model does.
    far = x * 50.0
    np.testing.assert_allclose(sig["reconstruct"](images=far)["images"], model.reconstruct(far),
                               atol=1e-4)


def test_vae_encode_draws_a_new_sample_at_every_request(tmp_path):
    x = _images(0)
    _, path = _save(tmp_path / "sample", _config("vae"))
    encode = tf.saved_model.load(path).signatures["encode"]
    first, second = encode(images=x)["latents"].numpy(), encode(images=x)["latents"].numpy()
    assert np.all(np.isfinite(first)) and not np.allclose(first, second)


def test_warmup_requests_fit_their_signatures_and_round_trip(acai, tmp_path):
    config = _config("acai")
    signatures = read_signatures(acai[1])
    inputs = warmup.example_inputs(config.model, batch=2)
    requests = [warmup.predict_request("m", key, values) for key, values in inputs.items()]
    for request in requests:
        warmup.check_request(request, signatures[request.model_spec.signature_name])
    file = warmup.write(str(tmp_path), requests)
    assert file == str(tmp_path / "assets.extra" / "tf_serving_warmup_requests")
    assert warmup.read(file) == requests
    assert [r.model_spec.signature_name for r in requests] == list(servable.SIGNATURE_KEYS)
    interpolate = tf.make_ndarray(requests[-1].inputs["images_a"])
    assert interpolate.shape == (2, 32, 32, 1) and np.abs(interpolate).max() <= 1


def test_check_request_rejects_what_the_server_would(acai):
    config = _config("acai")
    signature = read_signatures(acai[1])["encode"]
    good = warmup.example_inputs(config.model)["encode"]["images"]
    cases = {"takes inputs ['images'], the request has ['image']": {"image": good},
             "must be float32, got float64": {"images": good.astype(np.float64)},
             "must have shape [-1, 32, 32, 1] (-1: any), got [2, 32, 32]": {"images": good[..., 0]}}
    for message, inputs in cases.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            warmup.check_request(warmup.predict_request("m", "encode", inputs), signature)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
