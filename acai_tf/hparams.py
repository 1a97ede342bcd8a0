"""Typed hyperparameters: what a model's frozen dataclass of hyperparameters derives from it.

A model declares its hyperparameters once, as a frozen dataclass deriving from `HParams` whose
fields are made by `hparam()` (default, help text, allowed values, a check). From those fields
come:
- normalisation and validation (`__post_init__`): floats accept ints, the comma string "100,100"
  becomes (100, 100), and a value of the wrong type, outside `choices` or failing `check` is a
  one-line ConfigError;
- the JSON of config.json: `overrides()` (the values given, which is what a workdir records),
  `to_dict()` (every value) and `resolve()` (from either, or an instance);
- the training flags (`acai_tf.cli.flag_defs` reads `flag_fields()`).

This module imports no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Callable, ClassVar, Mapping

from acai_tf.errors import UserError


class ConfigError(UserError, ValueError):
    """A configuration value is invalid; the message is one line meant for the user."""


IntList = tuple[int, ...]  # In JSON and on the command line a comma string: "100,100".


@dataclasses.dataclass(frozen=True)
class Spec:
    """What a hyperparameter field declares besides its default (kept in the field's metadata).

    Attributes:
        help: what the value means, without a trailing period (the flag help adds the model).
        choices: the allowed values of a string hyperparameter (an enum flag); empty = any.
        check: a predicate the value must satisfy, and `requirement` says it in words.
        flag: whether the training binary has a flag for it (False: config.json only).
    """

    help: str
    choices: tuple[str, ...] = ()
    check: Callable[[Any], bool] | None = None
    requirement: str = ""
    flag: bool = True


def hparam(default: Any, help: str, *, choices: tuple[str, ...] = (),  # noqa: A002
           check: Callable[[Any], bool] | None = None, requirement: str = "",
           flag: bool = True) -> Any:
    """A dataclass field of an `HParams` class; see `Spec` for the arguments."""
    spec = Spec(help=help, choices=tuple(choices), check=check, requirement=requirement,
                flag=flag)
    return dataclasses.field(default=default, metadata={"spec": spec})


def spec(field: dataclasses.Field) -> Spec:
    """The `Spec` a field was declared with."""
    return field.metadata["spec"]


@dataclasses.dataclass(frozen=True)
class HParams:
    """Base of the per-model hyperparameter dataclasses (subclasses are frozen dataclasses).

    Class attributes:
        MODEL: the registered model name the hyperparameters belong to.
        LABEL: the model as the flag help names it (e.g. "ACAI", "VQ-VAE").
    """

    MODEL: ClassVar[str] = ""
    LABEL: ClassVar[str] = ""

    def __post_init__(self):
        types = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = _normalised(field.name, types[field.name], getattr(self, field.name))
            object.__setattr__(self, field.name, value)
            declared = spec(field)
            if declared.choices and value not in declared.choices:
                raise ConfigError(f"{field.name} must be one of {', '.join(declared.choices)}, "
                                  f"got {value!r}")
            if declared.check is not None and not declared.check(value):
                raise ConfigError(f"{field.name} must be {declared.requirement}, got {value!r}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Hyperparameter names, in declaration order."""
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def flag_fields(cls) -> tuple[dataclasses.Field, ...]:
        """The fields that have a training flag, in declaration order."""
        return tuple(field for field in dataclasses.fields(cls) if spec(field).flag)

    @classmethod
    def resolve(cls, given: "HParams | Mapping[str, Any]") -> "HParams":
        """`given` as an instance: an instance of this class, or a mapping of values by name
        (JSON or flag values, missing ones taking the defaults); other names are a ConfigError."""
        if isinstance(given, cls):
            return given
        if isinstance(given, HParams):
            raise ConfigError(f"model {cls.MODEL!r} does not take {type(given).__name__}")
        unknown = sorted(set(given) - set(cls.names()))
        if unknown:
            raise ConfigError(f"model {cls.MODEL!r} has no hyperparameter {', '.join(unknown)} "
                              f"(it takes: {', '.join(sorted(cls.names())) or 'none'})")
        resolved = cls(**given)
        # Not a field: equality stays semantic ({} equals the defaults given explicitly).
        object.__setattr__(resolved, "_given", frozenset(given))
        return resolved

    def to_dict(self) -> dict[str, Any]:
        """Every value, as JSON values (an IntList as its comma string)."""
        return {field.name: _json_value(getattr(self, field.name))
                for field in dataclasses.fields(self)}

    def overrides(self) -> dict[str, Any]:
        """What config.json records, as JSON values: the values given by name to `resolve`
        (flags, or an earlier config.json), defaults included if given; for an instance made
        otherwise, the values that differ from the defaults."""
        given = getattr(self, "_given", None)
        types = typing.get_type_hints(type(self))
        return {field.name: _json_value(getattr(self, field.name))
                for field in dataclasses.fields(self)
                if (field.name in given if given is not None else getattr(self, field.name)
                    != _normalised(field.name, types[field.name], field.default))}


def _normalised(name: str, kind: Any, value: Any) -> Any:
    """`value` as the declared type: an int is a valid float, a comma string a valid IntList."""
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind == IntList:
        try:
            items = value.split(",") if isinstance(value, str) else list(value)
            sizes = tuple(int(item) for item in items if str(item).strip())
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a comma-separated list of integers, "
                              f"got {value!r}") from None
        return sizes
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(f"{name} must be of type {kind.__name__}, got {value!r}")
    return value


def _json_value(value: Any) -> Any:
    return ",".join(str(item) for item in value) if isinstance(value, tuple) else value
