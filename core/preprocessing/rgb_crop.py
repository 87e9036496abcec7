"""Where the battery is in an RGB photo, and the square crop the anomaly model sees.

In a photo the battery fills a third of the frame; resized whole to 128 px, a 2-px scratch
vanishes. Cropping to the battery first gives the model 2-3x the pixels on the part that can be
defective. The battery is found by its edges, not its colour (backgrounds and casings come in
every colour): the Sobel gradient is thresholded relative to the photo's strongest edges, closed
into regions, and the box around every region of some size is kept (at least 5 % of the largest
and 0.1 % of the photo: a low-contrast casing edge may break away from the label and cap).

Train, validation, evaluation and run time all crop through :class:`RGBCrop`, so they cannot
drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.window import Window, crop_window, square_window

__all__ = ["RGBCrop", "battery_box", "resize_square"]


def battery_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """``(x, y, w, h)`` of the battery in a uint8 ``H x W x 3`` photo (the whole photo if none is found)."""
    h, w = image.shape[:2]
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.sqrt(gx * gx + gy * gy)
    # absolute floor: a blurred background never has edges this strong; relative part: a
    # low-contrast photo still keeps its strongest 1 % of edges
    edges = (magnitude > min(0.15, max(0.05, 0.3 * float(np.percentile(magnitude, 99))))).astype(np.uint8)
    k = max(3, min(h, w) // 40)
    edges = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(edges, connectivity=8)
    if n <= 1:
        return 0, 0, w, h
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.flatnonzero(areas >= max(0.05 * areas.max(), 0.001 * h * w))
    x0, y0 = stats[keep, 0].min(), stats[keep, 1].min()
    x1 = (stats[keep, 0] + stats[keep, 2]).max()
    y1 = (stats[keep, 1] + stats[keep, 3]).max()
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """Resize a uint8 image to ``size x size`` (area interpolation when shrinking)."""
    if image.shape[0] == size and image.shape[1] == size:
        return image
    shrink = image.shape[0] > size or image.shape[1] > size
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


@dataclass(frozen=True)
class RGBCrop:
    """The square battery crop of an RGB photo, resized to the model input.

    Attributes:
        size: Model input side.
        margin: Share of the battery's long side added on each side of its box.
        enabled: ``False`` resizes the whole photo (older checkpoints, no crop).
    """

    size: int
    margin: float = 0.08
    enabled: bool = True

    @classmethod
    def from_card(cls, card: dict, size: int) -> RGBCrop:
        """The crop a checkpoint was trained with (``card["preprocessing"]``; none if absent)."""
        pre = card.get("preprocessing") or {}
        if pre.get("crop") != "battery_box":
            return cls(size, enabled=False)
        return cls(size, float(pre.get("margin", 0.08)))

    def to_card(self) -> dict:
        """The ``preprocessing`` entry of the checkpoint card."""
        if not self.enabled:
            return {"crop": None, "resize": "area"}
        return {"crop": "battery_box", "margin": self.margin, "resize": "area", "fill": "replicate"}

    def window(self, image: np.ndarray) -> Window:
        """``(x0, y0, side)`` of the crop in ``image``'s pixels."""
        if not self.enabled:
            return 0, 0, max(image.shape[:2])
        return square_window(battery_box(image), self.margin)

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, Window, np.ndarray]:
        """Crop and resize a uint8 ``H x W x 3`` photo.

        Returns:
            ``(view, window, region)``: the ``size x size x 3`` model input, the window it came
            from, and a ``size x size`` float32 mask of the battery box inside the view (where
            training draws its synthetic defects).
        """
        if not self.enabled:
            region = np.ones((self.size, self.size), np.float32)
            return resize_square(image, self.size), (0, 0, max(image.shape[:2])), region
        box = battery_box(image)
        window = square_window(box, self.margin)
        view = resize_square(crop_window(image, window, fill="replicate"), self.size)
        scale = self.size / window[2]
        x, y, w, h = box
        region = np.zeros((self.size, self.size), np.float32)
        top, left = int((y - window[1]) * scale), int((x - window[0]) * scale)
        region[max(top, 0) : int(np.ceil(top + h * scale)), max(left, 0) : int(np.ceil(left + w * scale))] = (
            1.0
        )
        return view, window, region
