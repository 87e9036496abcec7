"""A small name -> class registry whose entries live one per module in a package.

Used by the explainers (``inspector.explain``) and predictors (``inspector.predictors``): each
method is a module in its package that decorates its class with ``@registry.register(name)``;
the first lookup of an unknown name imports every module of the package once, so adding a
method needs no edit to callers. This module imports nothing heavy (no torch).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from core.errors import ConfigError, InspectorError

log = logging.getLogger(__name__)

__all__ = ["Registry"]

T = TypeVar("T", bound=type)


class Registry(Generic[T]):
    """Classes registered by name, with lazy discovery of the modules of one package.

    Args:
        kind: What is registered, for messages (``"explainer"``).
        package: Dotted package whose modules register entries (``"inspector.explain"``).
        attribute: Class attribute set to the registered name (``"name"``, ``"task"``).
        error: Error raised for an unknown name.
        unknown: Message for an unknown name; formatted with ``kind``, ``name`` and ``known``
            (the comma-separated registered names).
    """

    def __init__(
        self,
        kind: str,
        package: str,
        *,
        attribute: str = "name",
        error: type[InspectorError] = ConfigError,
        unknown: str = "unknown {kind} {name!r}; choose one of {known}",
    ) -> None:
        self.kind = kind
        self.package = package
        self.attribute = attribute
        self.error = error
        self.unknown = unknown
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Class decorator that registers the class as ``name`` and sets its name attribute.

        Raises:
            ValueError: Another class already holds ``name`` (a programming error).
        """

        def decorator(cls: T) -> T:
            other = self._entries.get(name)
            if other is not None and other is not cls:
                raise ValueError(f"{self.kind} {name!r} is already registered by {other.__name__}")
            setattr(cls, self.attribute, name)
            self._entries[name] = cls
            return cls

        return decorator

    def discover(self) -> None:
        """Import every public module of the package so their ``register`` calls run."""
        package = importlib.import_module(self.package)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("_"):
                continue
            try:
                importlib.import_module(f"{self.package}.{info.name}")
            except ImportError as exc:  # one broken optional module must not hide the others
                log.warning("%s module %s cannot be imported: %s", self.kind, info.name, exc)

    def names(self) -> list[str]:
        """All registered names, sorted (after discovery)."""
        self.discover()
        return sorted(self._entries)

    def get(self, name: Any) -> T:
        """The class registered as ``name``, discovering the package's modules if needed.

        Raises:
            InspectorError: The configured ``error`` subclass if no class has that name.
        """
        if name not in self._entries:
            self.discover()
        if name not in self._entries:
            known = ", ".join(self.names())
            raise self.error(self.unknown.format(kind=self.kind, name=name, known=known))
        return self._entries[name]

    def create(self, name: Any, *args: Any, **kwargs: Any) -> Any:
        """Instantiate the class registered as ``name`` with ``args`` and ``kwargs``."""
        return self.get(name)(*args, **kwargs)
