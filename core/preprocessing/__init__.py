"""Preprocessing shared by training and inspection, kept once so the two cannot drift.

:mod:`.ct_crop` cuts a CT slice to the battery outline; :mod:`.rgb_crop` cuts an RGB photo to the
battery. Both return the window that maps results back to input pixels (:mod:`core.window`).
"""

from core.preprocessing.ct_crop import OutlineCrop
from core.preprocessing.intensity import normalise_intensity, percentile_window
from core.preprocessing.rgb_crop import RGBCrop, battery_box, resize_square

__all__ = ["OutlineCrop", "RGBCrop", "battery_box", "normalise_intensity", "percentile_window", "resize_square"]
