"""Battery families by name: ``register_battery`` and ``create_battery``.

A family is one module in :mod:`training.synth.ct` with a ``@register_battery`` class whose
``battery_type`` is its name; the modules are discovered on the first lookup
(:class:`core.registry.Registry`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.errors import ConfigError
from core.registry import Registry

if TYPE_CHECKING:
    from training.synth.ct.base import CTBattery


class UnknownBatteryType(ConfigError, ValueError):
    """An unknown battery type was asked for (also a ``ValueError``, as it always was)."""


CT_BATTERIES: Registry[type[CTBattery]] = Registry(
    "battery type",
    "training.synth.ct",
    attribute="battery_type",
    error=UnknownBatteryType,
    unknown="unknown {kind} {name!r}; known: {known}",
)


def register_battery(cls: type[CTBattery]) -> type[CTBattery]:
    """Class decorator: make a battery family available to :func:`create_battery` by its ``battery_type``."""
    return CT_BATTERIES.register(cls.battery_type)(cls)


def create_battery(battery_type: str, size: int, rng: np.random.Generator) -> CTBattery:
    """Draw a new battery of ``battery_type`` (``cell`` or ``module``).

    Raises:
        ValueError: Unknown battery type (an :class:`~core.errors.ConfigError` too).
    """
    return CT_BATTERIES.create(battery_type, size, rng)
