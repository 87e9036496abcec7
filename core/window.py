"""Square crop windows around the battery, and mapping results back to the input image.

Both models look at the battery, not the photo or scan around it: a square window around the
battery's bounding box (plus a margin) is cut out, padded where it leaves the image, and resized
to the model input. Maps and boxes computed on the window are pasted back into the input's pixel
grid with :func:`uncrop_map` and :func:`uncrop_boxes`.

A window is ``(x0, y0, side)``: window pixel ``(u, v)`` is input pixel ``(x0 + u, y0 + v)``.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["Window", "crop_window", "square_window", "uncrop_boxes", "uncrop_map"]

Window = tuple[int, int, int]


def square_window(box: tuple[int, int, int, int], margin: float) -> Window:
    """The square window centred on ``box = (x, y, w, h)``, its long side grown by ``2 * margin``."""
    x, y, w, h = box
    side = max(int(max(w, h) * (1 + 2 * margin)), 1)
    return int(round(x + w / 2 - side / 2)), int(round(y + h / 2 - side / 2)), side


def crop_window(image: np.ndarray, window: Window, fill: str = "median") -> np.ndarray:
    """Cut ``window`` out of ``image`` (2-D or ``H x W x C``), padding where it leaves the image.

    Args:
        image: The input image.
        window: ``(x0, y0, side)``.
        fill: ``"median"`` pads with the median of the image border (CT: the air around the
            object); ``"replicate"`` repeats the edge pixels (photos: no artificial edge that a
            model could mistake for a defect).
    """
    x0, y0, side = window
    h, w = image.shape[:2]
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if fill == "replicate" and sx1 > sx0 and sy1 > sy0:
        inside = image[sy0:sy1, sx0:sx1]
        return cv2.copyMakeBorder(
            np.ascontiguousarray(inside),
            sy0 - y0, y0 + side - sy1, sx0 - x0, x0 + side - sx1,
            cv2.BORDER_REPLICATE,
        )  # fmt: skip
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    value = np.median(border, axis=0)
    out = np.empty((side, side) + image.shape[2:], image.dtype)
    out[...] = value
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return out


def uncrop_boxes(boxes: list[dict], window: Window, shape: tuple[int, ...]) -> list[dict]:
    """Boxes ``{"box": [x, y, w, h], ...}`` in window pixels -> input pixels (clipped; empty ones dropped)."""
    x0, y0, _ = window
    out = []
    for b in boxes:
        x, y, w, h = b["box"]
        left, top = max(0, x + x0), max(0, y + y0)
        right, bottom = min(shape[1], x + x0 + w), min(shape[0], y + y0 + h)
        if right > left and bottom > top:
            out.append({**b, "box": [left, top, right - left, bottom - top]})
    return out


def uncrop_map(heat: np.ndarray, window: Window, shape: tuple[int, ...]) -> np.ndarray:
    """A ``side x side`` map of the window -> a float32 map of the input's ``shape[:2]`` (0 outside)."""
    x0, y0, side = window
    if heat.shape[:2] != (side, side):
        heat = cv2.resize(heat.astype(np.float32), (side, side), interpolation=cv2.INTER_LINEAR)
    out = np.zeros(shape[:2], np.float32)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + side, shape[1]), min(y0 + side, shape[0])
    if sx1 > sx0 and sy1 > sy0:
        out[sy0:sy1, sx0:sx1] = heat[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0]
    return out
