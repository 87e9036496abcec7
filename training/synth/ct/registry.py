"""Battery families by name: ``register_battery`` and ``create_battery``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from training.synth.ct.base import CTBattery

CT_BATTERIES: dict[str, type[CTBattery]] = {}


def register_battery(cls: type[CTBattery]) -> type[CTBattery]:
    """Class decorator: make a battery family available to :func:`create_battery`."""
    CT_BATTERIES[cls.battery_type] = cls
    return cls


def create_battery(battery_type: str, size: int, rng: np.random.Generator) -> CTBattery:
    """Draw a new battery of ``battery_type`` (``cell`` or ``module``).

    Raises:
        ValueError: Unknown battery type.
    """
    if battery_type not in CT_BATTERIES:
        raise ValueError(f"unknown battery type {battery_type!r}; known: {', '.join(sorted(CT_BATTERIES))}")
    return CT_BATTERIES[battery_type](size, rng)
