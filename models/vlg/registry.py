"""Name -> VLG backend class registry (``--vlg NAME``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from core.errors import ConfigError
from models.vlg.base import VLGBackend

_VLGS: dict[str, type[VLGBackend]] = {}
T = TypeVar("T", bound=type[VLGBackend])


def register_vlg(name: str) -> Callable[[T], T]:
    """Class decorator: register a :class:`VLGBackend` subclass under ``name``."""

    def wrap(cls: T) -> T:
        if name in _VLGS:
            raise ValueError(f"VLG backend {name!r} is already registered")
        cls.name = name
        _VLGS[name] = cls
        return cls

    return wrap


def list_vlgs() -> list[str]:
    """Names of every registered VLG backend, in registration order."""
    return list(_VLGS)


def get_vlg_class(name: str) -> type[VLGBackend]:
    """The backend class registered as ``name``."""
    try:
        return _VLGS[name]
    except KeyError:
        raise ConfigError(f"unknown VLG backend {name!r}; choose one of: {', '.join(_VLGS)}") from None


def create_vlg(name: str, **cfg: Any) -> VLGBackend:
    """Create the VLG backend registered as ``name`` with backend-specific settings ``cfg``."""
    return get_vlg_class(name)(**cfg)
