"""Heat-map overlays and box drawings as ``uint8`` RGB images for the UI and reports."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

__all__ = ["draw_boxes", "overlay_heatmap", "to_rgb_uint8"]


def to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Convert a grayscale/RGB/RGBA image of any common dtype to ``uint8 [H, W, 3]``.

    Floats are taken as ``[0, 1]``; ``uint16`` is scaled by 65535; ``uint8`` is kept.
    """
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3, 4):
        img = np.moveaxis(img, 0, -1)  # CHW -> HWC
    if img.dtype == np.uint8:
        out = img
    elif img.dtype == np.uint16:
        out = (img.astype(np.float32) / 257.0).round().astype(np.uint8)
    else:
        out = (np.clip(np.nan_to_num(img.astype(np.float32)), 0.0, 1.0) * 255.0).round().astype(np.uint8)
    if out.ndim == 2:
        out = np.repeat(out[..., None], 3, axis=-1)
    elif out.shape[-1] == 1:
        out = np.repeat(out, 3, axis=-1)
    elif out.shape[-1] == 4:
        out = out[..., :3]
    return np.ascontiguousarray(out)


def overlay_heatmap(
    image: np.ndarray,
    heatmap: np.ndarray,
    alpha: float = 0.45,
    colormap: int = cv2.COLORMAP_JET,
) -> np.ndarray:
    """Blend a ``[0, 1]`` heat map (resized to the image) over the image.

    Args:
        image: The image the map explains (gray or RGB; uint8, uint16 or float in ``[0, 1]``).
        heatmap: ``[h, w]`` map in ``[0, 1]``; resized to the image size.
        alpha: Weight of the coloured map in the blend.
        colormap: An OpenCV colormap id.

    Returns:
        ``uint8 [H, W, 3]`` RGB overlay.
    """
    base = to_rgb_uint8(image)
    heat = np.clip(np.nan_to_num(np.asarray(heatmap, dtype=np.float32)), 0.0, 1.0)
    if heat.shape != base.shape[:2]:
        heat = cv2.resize(heat, (base.shape[1], base.shape[0]), interpolation=cv2.INTER_LINEAR)
    colour = cv2.applyColorMap((heat * 255).astype(np.uint8), colormap)[..., ::-1]  # BGR -> RGB
    return cv2.addWeighted(base, 1.0 - alpha, np.ascontiguousarray(colour), alpha, 0.0)


def draw_boxes(
    image: np.ndarray,
    boxes: Sequence[dict],
    color: tuple[int, int, int] = (255, 48, 48),
    thickness: int = 2,
    show_labels: bool = True,
) -> np.ndarray:
    """Draw ``{label, score, box: [x, y, w, h]}`` boxes on a copy of the image (uint8 RGB)."""
    out = to_rgb_uint8(image).copy()
    for b in boxes:
        x, y, w, h = (int(v) for v in b["box"])
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), color, thickness)
        if show_labels:
            text = f"{b.get('label', '')} {float(b.get('score', 0.0)):.2f}".strip()
            cv2.putText(out, text, (x, max(10, y - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, color, 1, cv2.LINE_AA)
    return out
