"""Synthetic CT slices of cylindrical cells and prismatic/pouch modules.

:mod:`.base` holds :class:`CTBattery` (defects, artefacts), one module per battery family
(:mod:`.cell`, :mod:`.module`) describes a clean slice with a ``@register_battery`` class, and
:func:`create_battery` builds a family by name (the modules are discovered on the first lookup,
so a new family is one new file).
"""

from training.synth.ct.base import AIR, CTBattery, Slice
from training.synth.ct.registry import CT_BATTERIES, create_battery, register_battery

__all__ = ["AIR", "CT_BATTERIES", "CTBattery", "Slice", "create_battery", "register_battery"]
