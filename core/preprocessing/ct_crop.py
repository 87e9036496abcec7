"""The battery-outline crop of a CT slice (seed 003 "1st preprocessing"), for training and use.

The battery is the largest connected region that differs from the border colour (Otsu threshold
on the difference), which suits CT (dark air around the object); stamps and frame text are small
separate regions and are dropped. ``margin`` (a fraction of the box side) is kept around the box,
and the crop is centred on a square canvas of the border value so aspect ratio is preserved.
Training (``training.transforms.BatteryOutlineCrop``) and the inspector both crop here.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["OutlineCrop", "border_value"]


def border_value(image: np.ndarray) -> float:
    """Median grey level of the image border (the background around the battery)."""
    grey = image if image.ndim == 2 else image.mean(axis=2)
    return float(np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])))


def _paste(
    a: np.ndarray, x0: int, y0: int, side: int, keep: tuple[int, int, int, int], fill: float
) -> np.ndarray:
    """The ``side`` x ``side`` window at ``(x0, y0)`` holding only ``a``'s pixels inside ``keep``."""
    kx0, ky0, kx1, ky1 = keep
    out = np.full((side, side) + a.shape[2:], fill, a.dtype)
    out[ky0 - y0 : ky1 - y0, kx0 - x0 : kx1 - x0] = a[ky0:ky1, kx0:kx1]
    return out


class OutlineCrop:
    """Square crop around the battery outline.

    Args:
        margin: Fraction of the outline box side kept around it.
    """

    def __init__(self, margin: float = 0.04) -> None:
        self.margin = margin

    def bbox(self, image: np.ndarray) -> tuple[int, int, int, int]:
        """``(x, y, w, h)`` of the battery outline in ``image`` (float in ``[0, 1]``)."""
        grey = image if image.ndim == 2 else image.mean(axis=2)
        u8 = np.clip(grey * 255, 0, 255).astype(np.uint8)
        border = np.median(np.concatenate([u8[0], u8[-1], u8[:, 0], u8[:, -1]]))
        diff = cv2.absdiff(u8, np.full_like(u8, int(border)))
        _, fg = cv2.threshold(diff, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        if n <= 1:
            return 0, 0, image.shape[1], image.shape[0]
        k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        x, y, w, h = (int(v) for v in stats[k, :4])
        return x, y, w, h

    def window(self, image: np.ndarray) -> tuple[int, int, int, tuple[int, int, int, int]]:
        """Where the crop comes from, for mapping results back to the input image.

        Returns:
            ``(x0, y0, side, keep)``: output pixel ``(u, v)`` is input pixel ``(x0 + u, y0 + v)``;
            only input pixels inside ``keep = (kx0, ky0, kx1, ky1)`` (the outline box plus the
            margin, clipped to the image) are copied, the rest of the square is border value.
        """
        x, y, w, h = self.bbox(image)
        pad = int(round(self.margin * max(w, h)))
        keep = (
            max(x - pad, 0),
            max(y - pad, 0),
            min(x + w + pad, image.shape[1]),
            min(y + h + pad, image.shape[0]),
        )
        kw, kh = keep[2] - keep[0], keep[3] - keep[1]
        side = max(kw, kh)
        return keep[0] - (side - kw) // 2, keep[1] - (side - kh) // 2, side, keep

    def crop(self, image: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int]]:
        """The crop of one image and its ``(x0, y0, side)`` window.

        The window maps maps and boxes back with :func:`core.window.uncrop_map` /
        :func:`core.window.uncrop_boxes`.
        """
        x0, y0, side, keep = self.window(image)
        return _paste(image, x0, y0, side, keep, border_value(image)), (x0, y0, side)

    def crop_pair(self, image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Crop an image and its mask with one outline detection (the costly part)."""
        x0, y0, side, keep = self.window(image)
        return (
            _paste(image, x0, y0, side, keep, border_value(image)),
            _paste(mask, x0, y0, side, keep, 0.0),
        )
