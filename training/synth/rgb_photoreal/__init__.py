"""Photoreal RGB synthesis (``synth --rgb-style photoreal|photoreal_holdout|...``).

Split by concern: :mod:`.stations` (background, light and camera presets), :mod:`.backgrounds`,
:mod:`.wraps` (sleeves, labels, barcodes), :mod:`.objects` (shape primitives),
:mod:`.forms` (cylindrical, pouch, prismatic cells; module cases and packs), :mod:`.layers`
(material maps and shading), :mod:`.defects`, :mod:`.camera` and :mod:`.battery` (one photo).
"""

from training.synth.rgb_photoreal.battery import PhotorealBattery
from training.synth.rgb_photoreal.defects import DEFECTS
from training.synth.rgb_photoreal.stations import FITTING_STATIONS, HOLDOUT_STATIONS, STATIONS, Station

__all__ = ["DEFECTS", "FITTING_STATIONS", "HOLDOUT_STATIONS", "STATIONS", "PhotorealBattery", "Station"]
