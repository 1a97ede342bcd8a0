"""JSON that strict readers accept: NaN and infinities (an undefined metric) written as null.

Python's json writes NaN as the bare word NaN, which JSON parsers other than Python's reject.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def finite_or_none(value: Any) -> Any:
    """value with every non-finite float replaced by None, recursively through dicts, lists and
    tuples (as lists); numpy scalars become Python floats and ints."""
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """json.dumps of `finite_or_none(value)`; kwargs as json.dumps' (indent, sort_keys, ...)."""
    return json.dumps(finite_or_none(value), allow_nan=False, **kwargs)
