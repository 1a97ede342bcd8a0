"""Model registry: autoencoder classes by the names the binaries and configs use."""

from __future__ import annotations

from typing import Callable, TypeVar

_MODELS: dict[str, type] = {}
T = TypeVar("T", bound=type)


def register(name: str) -> Callable[[T], T]:
    """Class decorator registering a model under `name`; a second class with the name raises."""

    def decorate(cls: T) -> T:
        if name in _MODELS:
            raise ValueError(f"model {name!r} is already registered by {_MODELS[name].__name__}")
        _MODELS[name] = cls
        cls.registered_name = name
        return cls

    return decorate


def get(name: str) -> type:
    """Returns the class registered as `name`; an unknown name raises with the known ones."""
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(names())}") from None


def names() -> tuple[str, ...]:
    """Registered names, in the order of the paper's Table 1 columns."""
    order = ("baseline", "dropout", "denoising", "vae", "aae", "vqvae", "acai")
    return tuple(sorted(_MODELS, key=lambda n: (order.index(n) if n in order else len(order), n)))
