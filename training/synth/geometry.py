"""Small vectorised helpers shared by the CT and RGB renderers."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np


@lru_cache(maxsize=8)
def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``(yy, xx)`` of a ``size`` x ``size`` image (read-only)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    yy.setflags(write=False)
    xx.setflags(write=False)
    return yy, xx


def polar(size: int, cx: float, cy: float) -> tuple[np.ndarray, np.ndarray]:
    """Radius and angle (radians, in ``[-pi, pi]``) of every pixel around ``(cx, cy)``."""
    yy, xx = grid(size)
    dx, dy = xx - np.float32(cx), yy - np.float32(cy)
    return np.sqrt(dx * dx + dy * dy), np.arctan2(dy, dx)


def smooth_noise(
    rng: np.random.Generator, shape: tuple[int, int], cells: int, channels: int = 1
) -> np.ndarray:
    """Low-frequency noise in about ``[-1, 1]``: a ``cells`` x ``cells`` random grid, upsampled."""
    small = rng.uniform(-1.0, 1.0, size=(cells, cells, channels)).astype(np.float32)
    out = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return out if channels > 1 else out.reshape(shape)


def blob_mask(
    rng: np.random.Generator,
    shape: tuple[int, int],
    center: tuple[float, float],
    radii: tuple[float, float],
    lobes: int = 5,
    roughness: float = 0.35,
) -> np.ndarray:
    """An irregular filled blob (union of jittered ellipses) as a boolean mask.

    Args:
        rng: Random generator.
        shape: ``(height, width)`` of the mask.
        center: ``(x, y)`` of the blob.
        radii: ``(rx, ry)`` overall half-extent.
        lobes: Number of ellipses in the union.
        roughness: Relative jitter of lobe positions and sizes.

    Returns:
        Boolean mask of ``shape``.
    """
    m = np.zeros(shape, np.uint8)
    cx, cy = center
    rx, ry = radii
    for k in range(lobes):
        scale = 1.0 if k == 0 else rng.uniform(0.35, 0.8)
        ox = rng.normal(0, roughness) * rx if k else 0.0
        oy = rng.normal(0, roughness) * ry if k else 0.0
        axes = (
            max(1, int(rx * scale * rng.uniform(0.7, 1.0))),
            max(1, int(ry * scale * rng.uniform(0.7, 1.0))),
        )
        cv2.ellipse(m, (int(cx + ox), int(cy + oy)), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return m.astype(bool)


def tight_boxes(mask: np.ndarray, min_area: int = 1) -> list[list[int]]:
    """Tight ``[x, y, w, h]`` boxes of the 8-connected components of a binary mask."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return [
        [int(s[0]), int(s[1]), int(s[2]), int(s[3])] for s in stats[1:n] if s[cv2.CC_STAT_AREA] >= min_area
    ]


def put_text(
    img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour, thickness: int = 1
) -> None:
    """Anti-aliased Hershey text on a float image (OpenCV draws text on 8-bit images only)."""
    layer = np.zeros(img.shape[:2], np.uint8)
    cv2.putText(layer, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thickness, cv2.LINE_AA)
    alpha = layer.astype(np.float32) / 255.0
    if img.ndim == 3:
        alpha = alpha[..., None]
    img[:] = img * (1 - alpha) + np.asarray(colour, np.float32) * alpha
