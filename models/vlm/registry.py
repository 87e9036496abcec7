"""Name -> VLM backend class registry (``--vlm NAME``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from core.errors import ConfigError
from models.vlm.base import VLMBackend

_VLMS: dict[str, type[VLMBackend]] = {}
T = TypeVar("T", bound=type[VLMBackend])


def register_vlm(name: str) -> Callable[[T], T]:
    """Class decorator: register a :class:`VLMBackend` subclass under ``name``."""

    def wrap(cls: T) -> T:
        if name in _VLMS:
            raise ValueError(f"VLM backend {name!r} is already registered")
        cls.name = name
        _VLMS[name] = cls
        return cls

    return wrap


def list_vlms() -> list[str]:
    """Names of every registered VLM backend, in registration order."""
    return list(_VLMS)


def get_vlm_class(name: str) -> type[VLMBackend]:
    """The backend class registered as ``name``."""
    try:
        return _VLMS[name]
    except KeyError:
        raise ConfigError(f"unknown VLM backend {name!r}; choose one of: {', '.join(_VLMS)}") from None


def create_vlm(name: str, **cfg: Any) -> VLMBackend:
    """Create the VLM backend registered as ``name`` with backend-specific settings ``cfg``."""
    return get_vlm_class(name)(**cfg)
