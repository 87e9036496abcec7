"""core.registry.Registry: registration, errors, ordering, descriptions and package discovery."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from core.errors import CheckpointError, ConfigError
from core.registry import PLUGINS_ENV, DuplicateNameError, Registry, plugin_packages


def _package(root: Path, name: str, modules: dict[str, str]) -> None:
    """Write package ``name`` under ``root`` with ``modules`` (file stem -> source)."""
    pkg = root / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for stem, source in modules.items():
        (pkg / f"{stem}.py").write_text(textwrap.dedent(source))


def test_register_class_and_factory_and_create() -> None:
    registry: Registry = Registry("widget")

    @registry.register("square")
    class Square:
        """A square widget.

        More text that is not part of the description.
        """

        def __init__(self, side: int = 1) -> None:
            self.side = side

    @registry.register("circle")
    def circle(radius: float = 1.0) -> dict:
        """A circle, built by a factory."""
        return {"radius": radius}

    assert Square.name == "square"  # classes get their name attribute
    assert registry.create("square", side=3).side == 3
    assert registry.create("circle", radius=2.0) == {"radius": 2.0}
    assert registry.names() == ["circle", "square"]
    assert registry.describe("square") == "A square widget."
    assert registry.describe("circle") == "A circle, built by a factory."
    assert "square" in registry and registry["circle"] is circle and len(registry) == 2


def test_duplicate_name_is_an_error_but_re_registering_the_same_entry_is_not() -> None:
    registry: Registry = Registry("widget")

    def first() -> None:
        """First."""

    def second() -> None:
        """Second."""

    registry.register("a")(first)
    registry.register("a")(first)
    with pytest.raises(DuplicateNameError, match="widget 'a' is already registered"):
        registry.register("a")(second)
    assert registry.get("a") is first


def test_unknown_name_error_is_one_sentence_listing_the_choices() -> None:
    registry: Registry = Registry("widget")
    for name in ("b", "a"):
        registry.register(name)(lambda: None)
    with pytest.raises(ConfigError) as info:
        registry.get("zzz")
    assert str(info.value) == "unknown widget 'zzz'; choose one of a, b"
    with pytest.raises(KeyError):
        registry["zzz"]  # the mapping view keeps dict semantics


def test_error_class_and_message_are_configurable() -> None:
    registry: Registry = Registry(
        "predictor", error=CheckpointError, unknown="no {kind} for {name!r}; known: {known}"
    )
    registry.register("ct")(lambda: None)
    with pytest.raises(CheckpointError, match="no predictor for 'rgb'; known: ct"):
        registry.get("rgb")


def test_listing_order_priority_and_registration() -> None:
    by_name: Registry = Registry("backend")
    by_registration: Registry = Registry("backend", order="registration")
    for registry in (by_name, by_registration):
        registry.register("zeta")(lambda: None)
        registry.register("alpha")(lambda: None)
        registry.register("default", priority=10)(lambda: None)
    assert by_name.names() == ["default", "alpha", "zeta"]
    assert by_registration.names() == ["default", "zeta", "alpha"]


def test_check_options_names_the_accepted_ones() -> None:
    registry: Registry = Registry("model")

    @registry.register("net")
    def net(num_classes: int = 5, width: int = 8) -> None:
        """A net."""

    registry.check_options("net", {"width": 4})
    with pytest.raises(
        ConfigError, match=r"model 'net' does not accept option\(s\) depth; it accepts: width\."
    ):
        registry.check_options("net", {"depth": 3}, hidden=("num_classes",))


def test_discovers_the_modules_of_a_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry: Registry = Registry("gadget", "gadgets_pkg")
    monkeypatch.setattr("tests.core.test_registry.GADGETS", registry, raising=False)
    _package(
        tmp_path,
        "gadgets_pkg",
        {
            "lamp": '''
                from tests.core.test_registry import GADGETS

                @GADGETS.register("lamp")
                class Lamp:
                    """Gives light."""
            ''',
            "_private": '''
                from tests.core.test_registry import GADGETS

                @GADGETS.register("private")  # modules starting with _ are not scanned
                class Private:
                    """Never listed."""
            ''',
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert registry.entries == {}  # nothing imported yet
    assert registry.get("lamp").__name__ == "Lamp"  # the first lookup discovers
    assert registry.names() == ["lamp"]


def test_a_broken_module_is_logged_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    registry: Registry = Registry("gadget", "broken_gadgets_pkg")
    monkeypatch.setattr("tests.core.test_registry.GADGETS", registry, raising=False)
    _package(
        tmp_path,
        "broken_gadgets_pkg",
        {
            "a_broken": "import a_package_that_is_not_installed_anywhere\n",
            "b_fine": '''
                from tests.core.test_registry import GADGETS

                @GADGETS.register("fine")
                def fine():
                    """Works."""
            ''',
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="core.registry"):
        assert registry.names() == ["fine"]
    assert any("broken_gadgets_pkg.a_broken cannot be imported" in r.getMessage() for r in caplog.records)


def test_plugin_packages_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry: Registry = Registry("gadget")  # no package of its own: plug-ins only
    monkeypatch.setattr("tests.core.test_registry.GADGETS", registry, raising=False)
    _package(
        tmp_path,
        "extra_gadgets_pkg",
        {
            "fan": '''
                from tests.core.test_registry import GADGETS

                @GADGETS.register("fan")
                class Fan:
                    """Moves air."""
            ''',
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(PLUGINS_ENV, " extra_gadgets_pkg , ")
    assert plugin_packages() == ["extra_gadgets_pkg"]
    assert registry.describe("fan") == "Moves air."
