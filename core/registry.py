"""One name -> entry registry for everything pluggable, with lazy discovery of plug-in modules.

Every pluggable kind (CT architectures, RGB autoencoders, VLM/VLG backends, explainers,
predictors, losses, score methods, corruptions, transforms, synthetic battery families) is a
:class:`Registry`. An entry is a class or a factory function that a module registers with a
decorator::

    CT_MODELS = Registry("CT model", "models.ct_cnn")

    @CT_MODELS.register("tiny")
    def tiny(num_classes: int = 5, in_chans: int = 1) -> nn.Module:
        \"\"\"A tiny CNN (first docstring line = description in ``python -m inspector list``).\"\"\"

The first lookup of an unknown name (or the first listing) imports every public module of the
registry's package once (modules whose name starts with ``_`` are skipped), so adding an entry
is one new file and no caller changes. A module that cannot be imported is logged and skipped:
one broken optional module must not hide the others.

Plug-ins outside the project: the environment variable ``INSPECTOR_PLUGINS`` lists extra
packages (or modules), comma- or ``os.pathsep``-separated, whose modules every registry imports
during discovery, e.g. ``INSPECTOR_PLUGINS=my_plugins python -m inspector train ct ...``; their
modules register with the project's decorators as usual.

This module imports nothing heavy (no torch) and nothing outside :mod:`core`.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, Literal, TypeVar

from core.errors import ConfigError, InspectorError

log = logging.getLogger(__name__)

__all__ = ["PLUGINS_ENV", "DuplicateNameError", "Registry", "plugin_packages"]

T = TypeVar("T")

#: Environment variable naming extra plug-in packages that every registry scans.
PLUGINS_ENV = "INSPECTOR_PLUGINS"


class DuplicateNameError(ValueError):
    """Two different entries were registered under one name (a programming error)."""


def plugin_packages() -> list[str]:
    """Extra packages to scan, from :data:`PLUGINS_ENV` (comma or ``os.pathsep`` separated)."""
    raw = os.environ.get(PLUGINS_ENV, "")
    return [part.strip() for part in re.split(rf"[,{re.escape(os.pathsep)}]", raw) if part.strip()]


def first_doc_line(obj: Any) -> str:
    """The first non-empty line of ``obj``'s own docstring, or ``""``."""
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    for line in inspect.cleandoc(doc or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


class Registry(Generic[T]):
    """Entries (classes or factory functions) registered by name, discovered from a package.

    A registry also reads like a read-only mapping of name -> entry (``name in registry``,
    ``registry[name]``, iteration over names, ``len``), each access discovering first, so old
    ``dict`` registries can be replaced by an instance without changing their users.

    Args:
        kind: What is registered, for messages and listings (``"explainer"``, ``"CT model"``).
        package: Dotted package whose modules register entries (``"inspector.explain"``), or a
            plain module that holds all the entries itself; ``None`` scans only plug-ins.
        attribute: Attribute set to the registered name on class entries (``"name"``,
            ``"task"``); ``None`` sets nothing. Functions are never modified.
        error: :class:`InspectorError` subclass raised for an unknown name.
        unknown: Message for an unknown name; formatted with ``kind``, ``name`` and ``known``
            (the comma-separated listed names).
        order: Listing order: ``"name"`` (sorted) or ``"registration"`` (first registered
            first). Either way entries with a higher ``priority`` come first.
        label: Optional ``fn(name, entry) -> str`` to show a name in listings and messages
            (``"timm:<name>"`` for a family that takes a variant).
    """

    def __init__(
        self,
        kind: str,
        package: str | None = None,
        *,
        attribute: str | None = "name",
        error: type[InspectorError] = ConfigError,
        unknown: str = "unknown {kind} {name!r}; choose one of {known}",
        order: Literal["name", "registration"] = "name",
        label: Callable[[str, T], str] | None = None,
    ) -> None:
        if order not in ("name", "registration"):
            raise ValueError(f"order must be 'name' or 'registration', got {order!r}")
        self.kind = kind
        self.package = package
        self.attribute = attribute
        self.error = error
        self.unknown = unknown
        self.order = order
        self.label = label
        self._entries: dict[str, T] = {}
        self._priority: dict[str, int] = {}
        self._failed: set[str] = set()

    # ---------------------------------------------------------------------------------- register

    def register(self, name: str, *, priority: int = 0) -> Callable[[T], T]:
        """Decorator that registers a class or factory function as ``name``.

        Args:
            name: The name used in configs, CLI options and checkpoint cards.
            priority: Listing rank; higher comes first (e.g. the default backend the app
                offers first). Ties keep the registry's ``order``.

        Returns:
            A decorator returning the entry unchanged (a class also gets its name attribute).

        Raises:
            DuplicateNameError: Another entry already holds ``name`` (a programming error).
        """

        def decorator(entry: T) -> T:
            other = self._entries.get(name)
            if other is not None and other is not entry:
                raise DuplicateNameError(
                    f"{self.kind} {name!r} is already registered by {getattr(other, '__qualname__', other)!s}"
                )
            if self.attribute and isinstance(entry, type):
                setattr(entry, self.attribute, name)
            self._entries[name] = entry
            self._priority[name] = priority
            return entry

        return decorator

    def unregister(self, name: str) -> None:
        """Forget ``name`` (tests and plug-in reloads); unknown names are ignored."""
        self._entries.pop(name, None)
        self._priority.pop(name, None)

    # ---------------------------------------------------------------------------------- discover

    def discover(self) -> None:
        """Import every public module of the package and of the plug-in packages.

        Modules already imported cost nothing. A module that fails to import is logged once
        and skipped (a later discovery tries it again), so one broken optional module does not
        hide the others. A :class:`DuplicateNameError` is a bug and is raised.
        """
        packages = ([self.package] if self.package else []) + plugin_packages()
        for package_name in packages:
            package = self._import(package_name)
            if package is None or not hasattr(package, "__path__"):
                continue  # a plain module: importing it registered its entries
            for info in pkgutil.iter_modules(package.__path__):
                if not info.name.startswith("_"):
                    self._import(f"{package_name}.{info.name}")

    def _import(self, module_name: str) -> Any:
        try:
            module = importlib.import_module(module_name)
        except DuplicateNameError:
            raise
        except Exception as exc:  # one broken optional module must not hide the others
            if module_name not in self._failed:
                self._failed.add(module_name)
                log.warning("%s module %s cannot be imported: %s: %s", self.kind, module_name,
                            type(exc).__name__, exc)  # fmt: skip
            return None
        self._failed.discard(module_name)
        return module

    # ---------------------------------------------------------------------------------- look up

    @property
    def entries(self) -> dict[str, T]:
        """The live name -> entry dict, without discovery (tests may patch it)."""
        return self._entries

    def names(self) -> list[str]:
        """All registered names in listing order (after discovery)."""
        self.discover()
        return self._ordered()

    def _ordered(self) -> list[str]:
        names = list(self._entries)
        if self.order == "name":
            names.sort()
        return sorted(names, key=lambda n: -self._priority.get(n, 0))  # stable: keeps the order

    def labels(self) -> list[str]:
        """Names as shown to users (``label`` applied), in listing order."""
        names = self.names()
        if self.label is None:
            return names
        return [self.label(n, self._entries[n]) for n in names]

    def describe(self, name: str) -> str:
        """The first line of the entry's docstring (``""`` if it has none).

        Raises:
            InspectorError: The configured ``error`` subclass if no entry has that name.
        """
        return first_doc_line(self.get(name))

    def unknown_error(self, name: Any) -> InspectorError:
        """The error for an unknown ``name``: one sentence naming the known choices."""
        known = ", ".join(self.labels()) or "none"
        return self.error(self.unknown.format(kind=self.kind, name=name, known=known))

    def get(self, name: Any) -> T:
        """The entry registered as ``name``, discovering the package's modules if needed.

        Raises:
            InspectorError: The configured ``error`` subclass if no entry has that name.
        """
        if name not in self._entries:
            self.discover()
        if name not in self._entries:
            raise self.unknown_error(name)
        return self._entries[name]

    def create(self, name: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the entry registered as ``name`` (instantiate a class, call a factory)."""
        return self.get(name)(*args, **kwargs)

    def check_options(self, name: str, options: Iterable[str], hidden: Iterable[str] = ()) -> None:
        """Refuse keyword options the entry's signature does not accept.

        Args:
            name: A registered name.
            options: Keyword names a config wants to pass.
            hidden: Parameters filled by the caller, left out of the "it accepts" list.

        Raises:
            InspectorError: The configured ``error`` subclass, naming the accepted options.
        """
        entry = self.get(name)
        params = inspect.signature(entry).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return
        unknown = sorted(set(options) - set(params))
        if unknown:
            hidden = set(hidden)
            accepted = [p for p, v in params.items() if p not in hidden and v.kind is not v.VAR_POSITIONAL]
            raise self.error(
                f"{self.kind} {name!r} does not accept option(s) {', '.join(unknown)}; "
                f"it accepts: {', '.join(accepted) or 'none'}."
            )

    # ---------------------------------------------------------------------------------- mapping

    def __contains__(self, name: object) -> bool:
        if name not in self._entries:
            self.discover()
        return name in self._entries

    def __getitem__(self, name: str) -> T:
        if name not in self:
            raise KeyError(name)
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def keys(self) -> list[str]:
        """Registered names in listing order (like ``dict.keys``)."""
        return self.names()

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs in listing order."""
        return [(n, self._entries[n]) for n in self.names()]

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, package={self.package!r}, entries={list(self._entries)})"
