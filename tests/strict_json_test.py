"""Tests of strict JSON: non-finite values as null, numpy scalars as Python numbers."""

import json
import math
import sys

import numpy as np
import pytest

from acai_tf.outputs import strict_json


def test_non_finite_values_become_null_at_any_depth():
    value = {"a": math.nan, "b": [1.0, math.inf, {"c": -math.inf}], "d": (np.float32(2.5),),
             "e": np.int64(3), "f": "text", "g": None}
    assert strict_json.finite_or_none(value) == {
        "a": None, "b": [1.0, None, {"c": None}], "d": [2.5], "e": 3, "f": "text", "g": None}
    text = strict_json.dumps(value, sort_keys=True)
    assert json.loads(text)["b"] == [1.0, None, {"c": None}] and "NaN" not in text


def test_dumps_passes_json_options_through():
    assert strict_json.dumps({"b": 1, "a": np.float64("nan")}, indent=2, sort_keys=True) == (
        '{\n  "a": null,\n  "b": 1\n}')


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
