"""Name -> VLG backend class registry (``--vlg NAME``).

A backend is one module in :mod:`models.vlg` with a ``@register_vlg("name")`` class; the modules
are discovered on the first lookup (:class:`core.registry.Registry`). Listing order is the order
the app offers the backends: higher ``priority`` first (the offline ``model_boxes`` is the
default and registers with ``priority=10``), then by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from core.registry import Registry
from models.vlg.base import VLGBackend

VLG_BACKENDS: Registry[type[VLGBackend]] = Registry(
    "VLG backend", "models.vlg", unknown="unknown {kind} {name!r}; choose one of: {known}"
)
#: The live name -> class dict (tests may patch it to add scripted backends).
_VLGS: dict[str, type[VLGBackend]] = VLG_BACKENDS.entries
T = TypeVar("T", bound=type[VLGBackend])


def register_vlg(name: str, *, priority: int = 0) -> Callable[[T], T]:
    """Class decorator: register a :class:`VLGBackend` subclass under ``name``.

    Args:
        name: The backend name (``--vlg NAME``); set as the class's ``name``.
        priority: Listing rank; higher is offered first by the app.
    """
    return VLG_BACKENDS.register(name, priority=priority)


def list_vlgs() -> list[str]:
    """Names of every registered VLG backend, the app's default first."""
    return VLG_BACKENDS.names()


def get_vlg_class(name: str) -> type[VLGBackend]:
    """The backend class registered as ``name``.

    Raises:
        ConfigError: No backend has that name.
    """
    return VLG_BACKENDS.get(name)


def create_vlg(name: str, **cfg: Any) -> VLGBackend:
    """Create the VLG backend registered as ``name`` with backend-specific settings ``cfg``."""
    return get_vlg_class(name)(**cfg)
