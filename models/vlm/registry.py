"""Name -> VLM backend class registry (``--vlm NAME``).

A backend is one module in :mod:`models.vlm` with a ``@register_vlm("name")`` class; the modules
are discovered on the first lookup (:class:`core.registry.Registry`). Listing order is the order
the app offers the backends: higher ``priority`` first (the offline ``findings_writer`` is the
default and registers with ``priority=10``), then by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from core.registry import Registry
from models.vlm.base import VLMBackend

VLM_BACKENDS: Registry[type[VLMBackend]] = Registry(
    "VLM backend", "models.vlm", unknown="unknown {kind} {name!r}; choose one of: {known}"
)
#: The live name -> class dict (tests patch it to add scripted backends).
_VLMS: dict[str, type[VLMBackend]] = VLM_BACKENDS.entries
T = TypeVar("T", bound=type[VLMBackend])


def register_vlm(name: str, *, priority: int = 0) -> Callable[[T], T]:
    """Class decorator: register a :class:`VLMBackend` subclass under ``name``.

    Args:
        name: The backend name (``--vlm NAME``); set as the class's ``name``.
        priority: Listing rank; higher is offered first by the app.
    """
    return VLM_BACKENDS.register(name, priority=priority)


def list_vlms() -> list[str]:
    """Names of every registered VLM backend, the app's default first."""
    return VLM_BACKENDS.names()


def get_vlm_class(name: str) -> type[VLMBackend]:
    """The backend class registered as ``name``.

    Raises:
        ConfigError: No backend has that name.
    """
    return VLM_BACKENDS.get(name)


def create_vlm(name: str, **cfg: Any) -> VLMBackend:
    """Create the VLM backend registered as ``name`` with backend-specific settings ``cfg``."""
    return get_vlm_class(name)(**cfg)
