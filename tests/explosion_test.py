"""Tests for acai_tf.explosion (the loss-explosion rule) and the guard that applies it."""

import dataclasses
import sys
import types

import numpy as np
import pytest

from acai_tf import explosion
from acai_tf.training import callbacks, train_lib
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.config import ConfigError, ExperimentConfig, TrainConfig
from acai_tf.errors import UserError

WARM = explosion.WINDOW * (explosion.HISTORY + 1)  # Steps seen before anything is judged.


def first_trip(sequences, **settings):
    """(step, Trip) of the first trip over {key: per-step values}, or (None, None)."""
    rule = explosion.ExplosionRule(**settings)
    for step in range(len(next(iter(sequences.values())))):
        rule.update({key: float(values[step]) for key, values in sequences.items()})
        trip = rule.check()
        if trip is not None:
            return step + 1, trip
    return None, None


def healthy(steps, rng):
    """A reconstruction loss falling from 0.8 to 0.02 with 20 % noise."""
    return (0.02 + 0.78 * np.exp(-np.arange(steps) / 100)) * rng.lognormal(0, 0.2, steps)


def test_a_sustained_blow_up_trips_within_a_few_steps_and_names_the_loss():
    rng = np.random.default_rng(0)
    values = healthy(800, rng)
    values[600:] = 1e5  # The reported ACAI run: 0.01 -> 1e10 and then about 1e5.
    step, trip = first_trip({"losses/reconstruction": values, "losses/classifier":
                             np.full(800, 2.3)})
    assert step == 601 and trip.key == "losses/reconstruction"
    assert 0.02 < trip.reference < 0.05  # The healthy loss over the steps before.
    assert trip.level == pytest.approx(1e5 / explosion.WINDOW, rel=0.01)
    assert trip.threshold == pytest.approx(
        explosion.DEFAULT_FACTOR * trip.reference + explosion.FLOOR)


def test_one_huge_step_trips_but_a_tenfold_step_does_not():
    values = healthy(800, np.random.default_rng(1))
    spiked = values.copy()
    spiked[500] = 1e4
    assert first_trip({"losses/ae": spiked})[0] == 501
    noisy = values.copy()
    noisy[500:800:40] *= 10
    assert first_trip({"losses/ae": noisy}) == (None, None)


def test_noisy_adversarial_losses_of_healthy_runs_do_not_trip():
    rng = np.random.default_rng(2)
    steps = 20_000
    # An AAE-like generator loss: lognormal noise with heavy spikes (up to ~30x its median),
    # and slow swings of the balance between the adversaries.
    swing = 1 + 0.5 * np.sin(np.arange(steps) / 700)
    sequences = {
        "losses/ae_adversarial": swing * rng.lognormal(0, 1.0, steps),
        "losses/discriminator": 0.69 / swing * rng.lognormal(0, 0.3, steps),
        # ACAI's critic losses sit near 0 and jump by many times their level.
        "losses/critic": 0.05 * rng.lognormal(0, 1.0, steps),
        "losses/reconstruction": healthy(steps, rng),
    }
    assert max(sequences["losses/critic"]) > 40 * 0.05
    assert first_trip(sequences) == (None, None)


def test_nothing_is_judged_during_the_warm_up():
    values = np.full(WARM + 10, 0.01)
    values[WARM - 40:WARM] = 1e6  # Late in the warm-up: not judged yet...
    assert first_trip({"losses/kl": values[:WARM - 1]}) == (None, None)
    step, _ = first_trip({"losses/kl": values})
    assert step == WARM  # ...but judged as soon as the reference is complete.
    # Losses that rise early (a KL, an adversarial loss), then settle, are not judged while
    # they rise.
    kl = np.concatenate([np.linspace(0.0, 30.0, WARM - explosion.WINDOW), np.full(600, 30.0)])
    assert first_trip({"losses/kl": kl}) == (None, None)


def test_the_floor_keeps_losses_near_zero_from_tripping_by_ratio():
    # 9,000 times its level, but still under the floor.
    values = np.concatenate([np.full(400, 0.001), np.full(400, 0.9 * explosion.FLOOR)])
    assert first_trip({"losses/critic": values}) == (None, None)
    assert first_trip({"losses/critic": values}, floor=0.0)[0] == 401


def test_negative_losses_are_judged_by_their_magnitude():
    values = np.full(800, -100.0)  # A VAE's log-likelihood.
    assert first_trip({"losses/log_likelihood": values}) == (None, None)
    values[600:] = -1e6
    assert first_trip({"losses/log_likelihood": values})[0] == 601


def test_the_factor_must_exceed_one():
    with pytest.raises(ValueError, match="factor must be greater than 1, got 1"):
        explosion.ExplosionRule(factor=1)


def test_step_values_are_recovered_from_running_means():
    values = np.array([4.0, 2.0, 9.0, 1.0])
    running = np.cumsum(values) / np.arange(1, 5)
    steps = explosion.StepValues()
    recovered = [steps.update({"losses/a": float(m), "monitors/b": 1.0}) for m in running]
    assert [r["losses/a"] for r in recovered] == pytest.approx(values)
    assert all(set(r) == {"losses/a"} for r in recovered)
    steps.reset()
    assert steps.update({"losses/a": 7.0}) == {"losses/a": 7.0}


def test_the_guard_raises_one_line_naming_loss_step_value_and_reference():
    guard = callbacks.ExplosionGuard()
    iterations = types.SimpleNamespace(numpy=lambda: 1000)
    guard.set_model(types.SimpleNamespace(optimizer=types.SimpleNamespace(iterations=iterations)))
    guard.on_epoch_begin(0)
    total = 0.0
    for step in range(1, WARM + 2):
        total += 0.05 if step <= WARM else 0.05 + 32 * 1000
        logs = {"losses/reconstruction": np.float32(total / step), "monitors/kimg": 1.0}
        if step <= WARM:
            guard.on_train_batch_end(step, logs)
    with pytest.raises(callbacks.LossExplosionError) as error:
        guard.on_train_batch_end(WARM + 1, logs)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(
        "losses/reconstruction exploded at step 1000: mean 1000 over the last 32 steps, above "
        f"{explosion.DEFAULT_FACTOR:g} x its reference level 0.05 + {explosion.FLOOR:g};")
    assert message.endswith("(the check is --explosion_factor, 0 turns it off)")


def test_the_factor_is_checked_and_may_change_on_resume():
    with pytest.raises(ConfigError, match="explosion_factor must be 0 \\(no check\\) or "
                                          "greater than 1, got 0.5"):
        TrainConfig(explosion_factor=0.5)
    TrainConfig(explosion_factor=0)
    saved = ExperimentConfig()
    changed = dataclasses.replace(saved, train=dataclasses.replace(saved.train,
                                                                   explosion_factor=0.0))
    assert [name for name, _ in workdir_lib.config_differences(
        saved.to_dict(), changed.to_dict())] == ["train.explosion_factor"]
    assert "explosion_factor" in train_lib.RESUMABLE_FIELDS
    # A config.json written before the option existed still loads, with the default.
    old = saved.to_dict()
    del old["train"]["explosion_factor"]
    assert ExperimentConfig.from_dict(old) == saved
    assert issubclass(callbacks.LossExplosionError, UserError)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
