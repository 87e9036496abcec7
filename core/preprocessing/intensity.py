"""Scanner-independent intensity: a robust per-image window for CT slices.

Scanners export CT with different windows, bit depths and offsets; a model that reads absolute
grey levels learns one scanner. :func:`percentile_window` maps the ``lo``-th percentile of a
slice to 0 and the ``hi``-th to 1, so any increasing linear rescaling of the input gives the
same model input. Training and inspection both call it (card ``preprocessing.intensity``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["INTENSITY_MODES", "normalise_intensity", "percentile_window"]

INTENSITY_MODES = ("none", "percentile")


def percentile_window(image: np.ndarray, lo: float = 0.5, hi: float = 99.5) -> np.ndarray:
    """Linearly map the ``lo``/``hi`` percentiles of ``image`` to 0/1 and clip.

    Args:
        image: Float ``[H, W]`` (or ``[H, W, C]``) image; NaN and inf count as 0.
        lo: Lower percentile.
        hi: Upper percentile.

    Returns:
        float32 image in ``[0, 1]``; a flat image becomes all zeros.
    """
    image = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    a, b = np.percentile(image, [lo, hi])
    if b - a < 1e-6:
        return np.zeros_like(image)
    return np.clip((image - a) / (b - a), 0.0, 1.0).astype(np.float32)


def normalise_intensity(image: np.ndarray, mode: str | None) -> np.ndarray:
    """Apply the intensity mode a checkpoint card names (``None``/``"none"`` keeps the image)."""
    if mode in (None, "none"):
        return image
    if mode == "percentile":
        return percentile_window(image)
    raise ValueError(f"unknown intensity mode {mode!r}; known: {', '.join(INTENSITY_MODES)}")
