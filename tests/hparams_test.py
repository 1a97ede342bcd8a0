"""acai_tf.hparams: what a typed hyperparameter class derives from its fields."""

import dataclasses
import re
import sys

import pytest

from acai_tf.hparams import ConfigError, HParams, IntList, hparam


@dataclasses.dataclass(frozen=True)
class ToyHParams(HParams):
    MODEL, LABEL = "toy", "Toy"
    weight: float = hparam(0.5, "a weight")
    steps: int = hparam(3, "a count", check=lambda n: n > 0, requirement="positive")
    order: str = hparam("a", "an order", choices=("a", "b"))
    widths: IntList = hparam((100, 100), "widths")
    hidden: float = hparam(1.0, "no flag", flag=False)


def test_defaults_names_and_flag_fields_follow_the_declaration():
    assert ToyHParams().to_dict() == {"weight": 0.5, "steps": 3, "order": "a",
                                      "widths": "100,100", "hidden": 1.0}
    assert ToyHParams.names() == ("weight", "steps", "order", "widths", "hidden")
    assert [field.name for field in ToyHParams.flag_fields()] == [
        "weight", "steps", "order", "widths"]


def test_values_are_normalised_to_the_declared_types():
    hp = ToyHParams.resolve({"weight": 1, "widths": "200, 50"})
    assert hp.weight == 1.0 and isinstance(hp.weight, float)
    assert hp.widths == (200, 50)
    assert ToyHParams.resolve({"weight": 1.0, "widths": [200, 50]}) == hp


@pytest.mark.parametrize("given, message", [
    ({"weight": "x"}, "weight must be of type float, got 'x'"),
    ({"weight": True}, "weight must be of type float"),
    ({"steps": 1.5}, "steps must be of type int, got 1.5"),
    ({"steps": 0}, "steps must be positive, got 0"),
    ({"order": "c"}, "order must be one of a, b, got 'c'"),
    ({"widths": "1,x"}, "widths must be a comma-separated list of integers, got '1,x'"),
    ({"nope": 1, "other": 2}, "model 'toy' has no hyperparameter nope, other (it takes: "
                              "hidden, order, steps, weight, widths)"),
])
def test_bad_values_are_one_line_config_errors(given, message):
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        ToyHParams.resolve(given)


def test_overrides_record_what_was_given_and_equality_is_semantic():
    given = ToyHParams.resolve({"weight": 0.5, "steps": 4})
    assert given.overrides() == {"weight": 0.5, "steps": 4}  # a given default is recorded
    assert given == ToyHParams(steps=4) and hash(given) == hash(ToyHParams(steps=4))
    assert ToyHParams(steps=4, widths=(1,)).overrides() == {"steps": 4, "widths": "1"}
    assert ToyHParams.resolve({}).overrides() == {}
    assert ToyHParams.resolve(given) is given


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
