"""Synthetic CT slices of cylindrical cells and prismatic/pouch modules.

:mod:`.base` holds :class:`CTBattery` (defects, artefacts), one module per battery family
(:mod:`.cell`, :mod:`.module`) describes a clean slice, and :func:`create_battery` builds a
family by name.
"""

from training.synth.ct import cell, module  # noqa: F401  (register the families)
from training.synth.ct.base import AIR, CTBattery, Slice
from training.synth.ct.registry import CT_BATTERIES, create_battery, register_battery

__all__ = ["AIR", "CT_BATTERIES", "CTBattery", "Slice", "create_battery", "register_battery"]
