"""The scanner watermark / frame stamp: the controlled version of the resin-watermark shortcut.

Seed 003 (section 4.1) found a classifier that learned a watermark present only on resin
images. ``--shortcut P`` puts this stamp on defect CT images with probability P and on normal
ones with 1-P, so a model can learn the same spurious cue. The stamp sits in an image corner,
outside the battery outline, far from any defect, and the battery-outline crop removes it.
"""

from __future__ import annotations

import cv2
import numpy as np

from training.synth.geometry import put_text

TEXTS = ("XCT-QA 07", "SCAN 4A", "QC-LINE 2", "HX-300")


def apply_stamp(img: np.ndarray, rng: np.random.Generator, value: float = 0.97) -> tuple[int, int, int, int]:
    """Burn a bright text + logo + corner-bracket stamp into one corner of ``img``, in place.

    Args:
        img: Float image in ``[0, 1]`` (modified).
        rng: Random generator (picks corner and text).
        value: Stamp intensity.

    Returns:
        ``[x, y, w, h]`` of the stamp region.
    """
    size = img.shape[0]
    s = size / 256.0
    w, h = int(round(70 * s)), int(round(16 * s))
    patch = np.zeros((h, w), np.float32)
    scale = 0.32 * s
    cv2.circle(patch, (int(7 * s), h // 2), max(2, int(5 * s)), 1.0, max(1, int(s)), cv2.LINE_AA)
    cv2.circle(patch, (int(7 * s), h // 2), max(1, int(2 * s)), 1.0, -1, cv2.LINE_AA)
    text = TEXTS[int(rng.integers(len(TEXTS)))]
    put_text(patch, text, (int(15 * s), int(h * 0.72)), scale, 1.0, max(1, int(s)))
    cv2.line(patch, (0, h - 1), (w - 1, h - 1), 1.0, max(1, int(s)))
    margin = max(2, int(3 * s))
    corner = int(rng.integers(4))
    x = margin if corner in (0, 2) else size - margin - w
    y = margin if corner in (0, 1) else size - margin - h
    region = img[y : y + h, x : x + w]
    np.maximum(region, patch * np.float32(value), out=region)
    return x, y, w, h
