"""Defect boxes from a heat map (Grad-CAM attention or an autoencoder error map).

The map is thresholded, each connected region becomes one box (OpenCV external contours),
and the box score is the peak of the map inside the region. Boxes are plain dicts
``{"label": str, "score": float, "box": [x, y, w, h]}`` in pixels of the map; use
:func:`rescale_boxes` to move them to the pixels of another image.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

__all__ = ["boxes_from_map", "rescale_boxes"]


def boxes_from_map(
    heatmap: np.ndarray,
    threshold: float = 0.5,
    label: str = "defect",
    min_area: int = 16,
    max_boxes: int | None = 10,
) -> list[dict]:
    """Extract boxes around the regions of ``heatmap`` at or above ``threshold``.

    Args:
        heatmap: 2-D array ``[H, W]`` (any float or integer dtype; NaNs count as 0).
        threshold: Pixels with ``heatmap >= threshold`` belong to a region.
        label: Label written into every box.
        min_area: Regions whose bounding box covers fewer pixels are dropped (noise).
        max_boxes: Keep at most this many boxes (highest score first); ``None`` keeps all.

    Returns:
        Boxes ``{"label", "score", "box": [x, y, w, h]}`` sorted by descending score, where
        ``score`` is the maximum of the map inside the region.

    Raises:
        ValueError: If ``heatmap`` is not two-dimensional.
    """
    heat = np.asarray(heatmap)
    if heat.ndim != 2:
        raise ValueError(f"heatmap must be 2-D, got shape {heat.shape}")
    heat = np.nan_to_num(heat.astype(np.float32, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
    binary = (heat >= threshold).astype(np.uint8)
    if not binary.any():
        return []
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes: list[dict] = []
    region = np.zeros_like(binary)
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if w * h < min_area:
            continue
        region[:] = 0
        cv2.drawContours(region, [contour], -1, color=1, thickness=cv2.FILLED)
        inside = heat[region.astype(bool)]
        score = float(inside.max()) if inside.size else float(heat[y : y + h, x : x + w].max())
        score = round(score, 4)
        boxes.append({"label": label, "score": score, "box": [int(x), int(y), int(w), int(h)]})
    boxes.sort(key=lambda b: b["score"], reverse=True)
    return boxes if max_boxes is None else boxes[:max_boxes]


def rescale_boxes(boxes: Sequence[dict], src_hw: Sequence[int], dst_hw: Sequence[int]) -> list[dict]:
    """Map boxes from an image of size ``src_hw`` to one of size ``dst_hw``.

    Args:
        boxes: Boxes ``{"label", "score", "box": [x, y, w, h]}`` in ``src_hw`` pixels.
        src_hw: ``(height, width)`` the boxes are expressed in.
        dst_hw: ``(height, width)`` to express them in.

    Returns:
        New box dicts (other keys copied) with integer coordinates clipped to ``dst_hw``.
    """
    sy, sx = dst_hw[0] / src_hw[0], dst_hw[1] / src_hw[1]
    out = []
    for b in boxes:
        x, y, w, h = b["box"]
        x0, y0 = int(np.floor(x * sx)), int(np.floor(y * sy))
        x1, y1 = int(np.ceil((x + w) * sx)), int(np.ceil((y + h) * sy))
        x0, y0 = max(0, min(x0, dst_hw[1] - 1)), max(0, min(y0, dst_hw[0] - 1))
        x1, y1 = max(x0 + 1, min(x1, dst_hw[1])), max(y0 + 1, min(y1, dst_hw[0]))
        out.append({**b, "box": [x0, y0, x1 - x0, y1 - y0]})
    return out
