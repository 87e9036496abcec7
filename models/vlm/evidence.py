"""Reading the inspector's explanation maps: peak regions, boxes and positions in words.

Shared by the offline writer (:mod:`models.vlm.findings_writer`), the offline grounding
backend (:mod:`models.vlg.model_boxes`) and the prompts (the same words go to a VLM).
Pure numpy / scipy / OpenCV: no model is loaded here.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

# CT label -> defect type (the part after the battery type); RGB has no class, only an anomaly.
CT_DEFECT_TYPES: dict[str, str] = {
    "cell_normal": "none",
    "module_normal": "none",
    "cell_porosity": "porosity",
    "module_porosity": "porosity",
    "module_resin_overflow": "resin_overflow",
}


@dataclass(frozen=True)
class Region:
    """A connected hot region of an explanation map, in pixels of the map's target size.

    Attributes:
        xyxy: Bounding corners ``(x0, y0, x1, y1)``.
        peak: ``(x, y)`` of the map maximum inside the region.
        score: Mean map value inside the region (0..1 after normalisation).
        area_fraction: Region area / image area.
        elongation: Long side / short side of the region's bounding box (>= 1).
    """

    xyxy: tuple[float, float, float, float]
    peak: tuple[float, float]
    score: float
    area_fraction: float
    elongation: float


def normalise_map(array: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """Return a float32 map in ``[0, 1]`` (divided by its max), resized to ``size=(w, h)``."""
    m = np.nan_to_num(np.asarray(array, dtype=np.float32).squeeze())
    if m.ndim == 3:  # an error map kept per channel
        m = m.mean(axis=2)
    m = np.clip(m - min(float(m.min(initial=0.0)), 0.0), 0.0, None)
    peak = float(m.max(initial=0.0))
    m = m / peak if peak > 0 else m
    if size is not None and (m.shape[1], m.shape[0]) != tuple(size):
        m = cv2.resize(m, tuple(int(s) for s in size), interpolation=cv2.INTER_LINEAR)
    return m


def map_regions(
    array: np.ndarray,
    size: tuple[int, int] | None = None,
    threshold: float = 0.5,
    min_area_fraction: float = 0.0005,
    max_regions: int = 5,
) -> list[Region]:
    """Connected regions of a map above ``threshold`` x its max, hottest first.

    Args:
        array: Attention or error map (any scale; normalised here).
        size: ``(width, height)`` of the input image the regions are reported in.
        threshold: Relative level (0..1 of the map max) that defines "hot".
        min_area_fraction: Regions smaller than this fraction of the image are dropped.
        max_regions: At most this many regions.
    """
    m = normalise_map(array, size)
    if m.max(initial=0.0) <= 0:
        return []
    labels, count = ndimage.label(m >= threshold)
    regions = []
    for index, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        inside = labels[sl] == index
        area = float(inside.sum()) / m.size
        if area < min_area_fraction:
            continue
        values = np.where(inside, m[sl], -1.0)
        py, px = np.unravel_index(int(values.argmax()), values.shape)
        y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        w, h = x1 - x0, y1 - y0
        regions.append(
            Region(
                xyxy=(float(x0), float(y0), float(x1), float(y1)),
                peak=(float(x0 + px), float(y0 + py)),
                score=float(m[sl][inside].mean()),
                area_fraction=area,
                elongation=float(max(w, h) / max(1, min(w, h))),
            )
        )
    regions.sort(key=lambda r: r.score * np.sqrt(r.area_fraction), reverse=True)
    return regions[:max_regions]


_ROWS = {"en": ("upper", "middle", "lower"), "ko": ("상단", "중간", "하단")}
_COLS = {"en": ("left", "center", "right"), "ko": ("좌측", "중앙", "우측")}


def position_words(x: float, y: float, width: int, height: int, lang: str = "en") -> str:
    """Name the cell of a 3x3 grid that holds ``(x, y)``: "upper-left", "center", "좌측 상단"."""
    row = min(2, max(0, int(3 * y / max(1, height))))
    col = min(2, max(0, int(3 * x / max(1, width))))
    if row == 1 and col == 1:
        return "center" if lang == "en" else "중앙"
    if lang == "en":
        if row == 1:
            return f"middle-{_COLS['en'][col]}"
        if col == 1:
            return f"{_ROWS['en'][row]}-center"
        return f"{_ROWS['en'][row]}-{_COLS['en'][col]}"
    if row == 1:
        return f"{_COLS['ko'][col]} 중간"
    if col == 1:
        return f"중앙 {_ROWS['ko'][row]}"
    return f"{_COLS['ko'][col]} {_ROWS['ko'][row]}"


def foreground_mask(image: np.ndarray) -> np.ndarray:
    """Rough battery outline: pixels brighter (CT) or different (RGB) than the border background."""
    gray = np.asarray(image, dtype=np.float32)
    if gray.ndim == 3:
        gray = gray.mean(axis=2)
    gray = gray / max(float(gray.max(initial=0.0)), 1e-6)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    spread = float(gray.std())
    mask = np.abs(gray - background) > max(0.5 * spread, 0.05)
    if mask.mean() < 0.05:  # no clear outline: treat the whole frame as the battery
        return np.ones_like(mask, dtype=bool)
    mask = ndimage.binary_fill_holes(ndimage.binary_closing(mask, iterations=2))
    labels, count = ndimage.label(mask)
    if count > 1:  # keep the battery: the largest blob (background texture makes small ones)
        sizes = ndimage.sum(mask, labels, index=range(1, count + 1))
        mask = labels == 1 + int(np.argmax(sizes))
    return mask


def edge_words(
    image: np.ndarray | None, x: float, y: float, modality: str, battery_type: str | None, lang: str = "en"
) -> str:
    """Say whether ``(x, y)`` lies near the outer wall of the battery ("near the can wall").

    Returns an empty string when the point is inside, away from the wall, or when no image is
    given. The wall is the outline of :func:`foreground_mask`; "near" is within 12% of the
    battery's smaller side.
    """
    if image is None:
        return ""
    mask = foreground_mask(image)
    h, w = mask.shape
    xi, yi = int(np.clip(x, 0, w - 1)), int(np.clip(y, 0, h - 1))
    distance = ndimage.distance_transform_edt(mask)
    ys, xs = np.nonzero(mask)
    extent = min(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) if xs.size else min(h, w)
    if not mask[yi, xi]:
        near = True
    else:
        near = distance[yi, xi] < 0.12 * extent
    if not near:
        if modality == "ct":
            return "in the interior" if lang == "en" else "내부 영역"
        return "away from the edges" if lang == "en" else "가장자리에서 떨어진 영역"
    if modality == "ct":
        if battery_type == "module":
            return "near the module edge" if lang == "en" else "모듈 가장자리 근처"
        return "near the can wall" if lang == "en" else "캔 벽 근처"
    return "near the battery edge" if lang == "en" else "배터리 가장자리 근처"


def ct_defect_type(label: str | None) -> str:
    """Defect type of a CT class label (``cell_porosity`` -> ``porosity``)."""
    if not label:
        return "none"
    return CT_DEFECT_TYPES.get(label, label.split("_", 1)[-1])
