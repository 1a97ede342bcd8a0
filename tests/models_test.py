"""Every registered autoencoder: API shapes, training, optimizers, serialisation, quirks."""

import random
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from acai_tf import models
from acai_tf.config import ConfigError

import tiny

ALL = models.names()


def tiny_config(name, **overrides):
    """The shared tiny model at learning rate 1e-3 (these tests train only a few steps)."""
    return tiny.model_config(name, **{"lr": 1e-3, **overrides})


def fit(model, batch, steps):
    data = tf.data.Dataset.from_tensors(batch).repeat()
    return model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0).history


def build(name, seed=0, **overrides):
    model = models.build(tiny_config(name, **overrides), seed=seed)
    model.compile()
    return model


def _adversaries(model):
    """The networks trained by the model's own extra optimizer (ACAI's critic, AAE's
    discriminator)."""
    return [getattr(model, name) for name in ("critic", "discriminator") if hasattr(model, name)]


def snapshot(variables):
    return [v.numpy().copy() for v in variables]


def changed(before, variables):
    return [not np.array_equal(b, v.numpy()) for b, v in zip(before, variables)]


def test_registry_has_the_papers_seven_models():
    assert ALL == ("baseline", "dropout", "denoising", "vae", "aae", "vqvae", "acai")
    with pytest.raises(ValueError, match="unknown model 'nope'; known models: baseline"):
        models.get("nope")


@pytest.mark.parametrize("name", ALL)
def test_api_shapes(name):
    model = build(name)
    images = tiny.lines_batch(3)["image"]
    latents = model.encode(images)
    assert latents.shape == (3, 4, 4, 2)
    assert model.decode(latents).shape == (3, 32, 32, 1)
    assert model.reconstruct(images).shape == (3, 32, 32, 1)
    assert model.classify(images).shape == (3, 10)
    for method in ("linear", "spherical"):
        path = model.interpolate(images, images[::-1], steps=5, method=method)
        assert path.shape == (3, 5, 32, 32, 1)


@pytest.mark.parametrize("name", ALL)
def test_losses_finite_and_falling_on_a_fixed_batch(name):
    model = build(name)
    batch = tiny.lines_batch(16)
    first = fit(model, batch, 1)
    assert all(np.isfinite(v[-1]) for v in first.values()), first
    fit(model, batch, 60)
    later = fit(model, batch, 1)  # Epoch logs are epoch means: read one step alone.
    assert all(np.isfinite(v[-1]) for v in later.values()), later
    assert later["losses/reconstruction"][-1] < 0.8 * first["losses/reconstruction"][-1]


@pytest.mark.parametrize("name", ["baseline", "vae", "vqvae", "acai"])
def test_latent_classifier_fits_frozen_latents(name):
    model = build(name)
    batch = tiny.lines_batch(16)
    fit(model, batch, 40)  # Untrained latents are ~1e-3 in scale: let them grow first.
    model.compile(optimizer=keras.optimizers.Adam(0.0),
                  classifier_optimizer=keras.optimizers.Adam(3e-2))
    first = fit(model, batch, 1)["losses/classifier"][-1]
    fit(model, batch, 60)
    assert fit(model, batch, 1)["losses/classifier"][-1] < 0.9 * first


def test_same_seed_same_weights():
    a, b = models.build(tiny_config("acai"), seed=5), models.build(tiny_config("acai"), seed=5)
    c = models.build(tiny_config("acai"), seed=6)
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, z) for x, z in zip(a.get_weights(), c.get_weights()))


@pytest.mark.parametrize("name", ALL)
def test_optimizers_partition_the_trainable_variables(name):
    model = build(name)
    groups = [model.autoencoder_variables, model.classifier.trainable_variables]
    groups += [adversary.trainable_variables for adversary in _adversaries(model)]
    ids = [id(v) for group in groups for v in group]
    assert len(ids) == len(set(ids))
    assert set(ids) == {id(v) for v in model.trainable_variables}


@pytest.mark.parametrize("name", ALL)
def test_each_optimizer_moves_only_its_own_variables(name):
    # A zero learning rate freezes the autoencoder: only classifier (and critic) may move.
    model = models.build(tiny_config(name), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(0.0))
    ae_before = snapshot(model.autoencoder_variables)
    cls_before = snapshot(model.classifier.trainable_variables)
    extra = {a.name: (a.trainable_variables, snapshot(a.trainable_variables))
             for a in _adversaries(model)}
    fit(model, tiny.lines_batch(8), 2)
    assert not any(changed(ae_before, model.autoencoder_variables))
    assert all(changed(cls_before, model.classifier.trainable_variables))
    for variables, before in extra.values():
        assert any(changed(before, variables))


@pytest.mark.parametrize("name", ALL)
def test_get_config_round_trip(name):
    model = models.build(tiny_config(name, hparams={**tiny.HPARAMS.get(name, {})}), seed=3)
    clone = type(model).from_config(model.get_config())
    assert clone.model_config == model.model_config and clone.seed == 3
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert type(restored) is type(model) and restored.model_config == model.model_config


def test_building_a_model_leaves_the_global_random_state_alone():
    # Rebuilding a model for evaluation or export must not reseed anyone else's draws.
    random.seed(0)
    np.random.seed(0)
    tf.random.set_seed(0)
    expected = (random.random(), np.random.rand(), float(tf.random.uniform(())))
    random.seed(0)
    np.random.seed(0)
    tf.random.set_seed(0)
    models.build(tiny_config("vqvae"), seed=5)
    assert (random.random(), np.random.rand(), float(tf.random.uniform(()))) == expected


@pytest.mark.parametrize("name", ["acai", "aae"])
def test_unknown_update_order_is_a_config_error(name):
    with pytest.raises(ConfigError, match="update_order must be one of"):
        models.build(tiny_config(name, hparams={"update_order": "sometimes"}))


def test_unknown_hyperparameter_is_a_config_error():
    with pytest.raises(ConfigError, match="has no hyperparameter advweight"):
        models.build(tiny_config("baseline", hparams={"advweight": 1.0}))


def test_random_draws_change_every_step():
    model = build("denoising")
    model.optimizer.iterations.assign(0)
    first = model.corrupt_images(tf.zeros((2, 32, 32, 1))).numpy()
    model.optimizer.iterations.assign(1)
    second = model.corrupt_images(tf.zeros((2, 32, 32, 1))).numpy()
    assert not np.allclose(first, second)
    assert abs(first.std() - 1.0) < 0.05  # noise 1.0 on [-1, 1] data


def test_dropout_flag_is_a_keep_probability():
    model = build("dropout", hparams={"dropout": 0.25})
    dropped = model.corrupt_latents(tf.ones((64, 4, 4, 2))).numpy()
    kept = dropped[dropped != 0]
    np.testing.assert_allclose(kept, 4.0)  # scaled by 1 / keep
    assert abs(kept.size / dropped.size - 0.25) < 0.05


def _acai_step(update_order, critic_lr, seed=0):
    model = models.build(tiny_config("acai", hparams={"update_order": update_order}), seed=seed)
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  critic_optimizer=keras.optimizers.SGD(critic_lr))
    fit(model, tiny.lines_batch(8), 1)
    return snapshot(model.autoencoder_variables), snapshot(model.critic.trainable_variables)


def test_acai_alternating_trains_against_the_updated_critic():
    ae_alt, critic_alt = _acai_step("alternating", 0.5)
    ae_sim, critic_sim = _acai_step("simultaneous", 0.5)
    for a, b in zip(critic_alt, critic_sim):  # Same critic update in both orders.
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert any(not np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(ae_alt, ae_sim))
    # With a frozen critic the two orders are the same computation.
    ae_alt, _ = _acai_step("alternating", 0.0)
    ae_sim, _ = _acai_step("simultaneous", 0.0)
    for a, b in zip(ae_alt, ae_sim):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_acai_critic_learns_to_predict_alpha():
    # Toy problem: each image's partner in the reversed batch has the opposite constant
    # value, so a decoded mix's grey level g reveals alpha = (1 - |g|) / 2.
    images = np.concatenate([np.ones((16, 32, 32, 1)), -np.ones((16, 32, 32, 1))])
    batch = {"image": images.astype(np.float32), "label": np.zeros(32, np.int64)}
    model = models.build(tiny_config("acai", hparams={"advweight": 0.0}), seed=0)
    model.compile(critic_optimizer=keras.optimizers.Adam(1e-3))
    fit(model, batch, 200)
    final = fit(model, batch, 1)
    # A critic that ignores its input can do no better than the variance of the folded alpha,
    # E[(alpha - 1/4)^2] = 1/48; a working critic regresses alpha far below it.
    assert final["losses/critic_alpha"][-1] < 0.1 / 48
    assert final["losses/critic_real"][-1] < 0.1 / 48


def test_vqvae_codebook_follows_ema_every_step():
    model = build("vqvae")
    before = model.quantizer.codebook.numpy().copy()
    fit(model, tiny.lines_batch(8), 1)
    after = model.quantizer.codebook.numpy()
    assert not np.array_equal(before, after)
    assert model.quantizer.ema_counts.numpy().sum() > 0
    assert not model.quantizer.codebook.trainable


def test_vae_encodes_to_a_sample_by_default_and_the_mean_on_request():
    images = tiny.lines_batch(2)["image"]
    sampling = build("vae")
    assert not np.allclose(sampling.encode(images), sampling.encode(images))
    mean = build("vae", hparams={"encoding": "mean"})
    np.testing.assert_array_equal(mean.encode(images), mean.encode(images))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
