"""Image helpers for the UI, the reports and the CLI: display conversion, heat-map overlays, boxes.

The one place images are drawn; it imports no UI framework, so the runtime and reports use it too.

Boxes follow the inspection JSON: ``{"label", "score", "box": [x, y, w, h]}`` in pixels of the
input image.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Mapping

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# One colour per source so the three panels are easy to tell apart.
COLORS: dict[str, tuple[int, int, int]] = {
    "ct": (255, 64, 64),
    "rgb": (255, 170, 0),
    "vlg": (0, 200, 255),
    "vlm": (170, 90, 255),
}


MIN_DRAW_SIDE = 384


def to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Convert any image array the pipeline produces into ``uint8[H, W, 3]`` for display.

    Args:
        image: ``[H, W]``, ``[H, W, 1|3|4]`` or ``[C, H, W]`` array; ``uint8``, ``uint16``, or
            float in ``[0, 1]``.

    Returns:
        An RGB ``uint8`` array.
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3, 4):
        arr = np.moveaxis(arr, 0, -1)
    if arr.dtype == np.uint16:
        arr = (arr.astype(np.float32) / 65535.0 * 255.0).round().astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = (np.clip(np.nan_to_num(arr.astype(np.float32)), 0.0, 1.0) * 255.0).round().astype(np.uint8)
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    elif arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    elif arr.shape[-1] == 4:
        arr = arr[..., :3]
    return np.ascontiguousarray(arr)


def overlay_heatmap(
    image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45, colormap: int = cv2.COLORMAP_JET
) -> np.ndarray:
    """Blend a ``[0, 1]`` heat map (resized to the image) over the image.

    Args:
        image: The image the map explains (gray or RGB; uint8, uint16 or float in ``[0, 1]``).
        heatmap: ``[h, w]`` map in ``[0, 1]`` (NaN counts as 0); resized to the image size.
        alpha: Weight of the coloured map in the blend.
        colormap: An OpenCV colormap id.

    Returns:
        ``uint8 [H, W, 3]`` RGB overlay at the image size.
    """
    base = to_rgb_uint8(image)
    heat = np.clip(np.nan_to_num(np.asarray(heatmap, dtype=np.float32)), 0.0, 1.0)
    if heat.shape[:2] != base.shape[:2]:
        heat = cv2.resize(heat, (base.shape[1], base.shape[0]), interpolation=cv2.INTER_LINEAR)
    heat *= 255.0
    colored = cv2.applyColorMap(heat.astype(np.uint8), colormap)
    del heat
    cv2.cvtColor(colored, cv2.COLOR_BGR2RGB, dst=colored)
    # blended in uint8 by OpenCV (rounded, saturated): no float copies of a large image
    return cv2.addWeighted(np.ascontiguousarray(base), 1.0 - alpha, colored, alpha, 0.0)


def colormap_legend(width: int = 256, height: int = 14, colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """The colour bar of :func:`overlay_heatmap` (low on the left, high on the right), ``uint8`` RGB."""
    ramp = np.tile(np.linspace(0, 255, width).astype(np.uint8), (height, 1))
    return np.ascontiguousarray(cv2.applyColorMap(ramp, colormap)[..., ::-1])


def draw_boxes(
    image: np.ndarray,
    boxes: Iterable[Mapping],
    color: tuple[int, int, int] = COLORS["ct"],
    width: int | None = None,
    min_side: int = MIN_DRAW_SIDE,
) -> np.ndarray:
    """Draw labelled boxes on a copy of the image.

    Args:
        image: any array :func:`to_rgb_uint8` accepts.
        boxes: ``{"label", "score", "box": [x, y, w, h]}`` dicts in image pixels.
        color: RGB outline colour.
        width: outline width; defaults to about 1% of the image side.
        min_side: images smaller than this are enlarged by an integer factor first, so labels
            stay legible next to the picture; ``0`` keeps the image size.

    Returns:
        ``uint8[H, W, 3]`` with the boxes drawn; malformed boxes are skipped.
    """
    canvas = Image.fromarray(to_rgb_uint8(image))
    # small images are enlarged first so that labels stay legible next to the picture
    scale = max(1, -(-min_side // max(canvas.size))) if min_side > 0 else 1
    if scale > 1:
        canvas = canvas.resize((canvas.width * scale, canvas.height * scale), Image.NEAREST)
    draw = ImageDraw.Draw(canvas)
    line = width or max(1, round(max(canvas.size) / 150))
    font = ImageFont.load_default(size=max(10, round(max(canvas.size) / 24)))
    for item in boxes:
        try:
            x, y, w, h = (float(v) * scale for v in item["box"])
        except (KeyError, TypeError, ValueError):
            continue
        draw.rectangle([x, y, x + w, y + h], outline=color, width=line)
        label = str(item.get("label", ""))
        score = item.get("score")
        if isinstance(score, (int, float)):
            label = f"{label} {score:.2f}".strip()
        if label:
            left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
            text_y = y - (bottom - top) - 4 if y >= (bottom - top) + 4 else y
            draw.rectangle([x, text_y, x + right - left + 4, text_y + bottom - top + 4], fill=color)
            draw.text((x + 2 - left, text_y + 2 - top), label, fill=(0, 0, 0), font=font)
    return np.asarray(canvas)


def png_bytes(image: np.ndarray, max_side: int | None = None) -> bytes:
    """Encode an image as PNG, optionally shrunk so its longer side is ``max_side``."""
    pil = Image.fromarray(to_rgb_uint8(image))
    if max_side is not None:
        pil.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """Decode PNG (or any PIL-readable) bytes into ``uint8[H, W, 3]``."""
    with Image.open(io.BytesIO(data)) as pil:
        return np.asarray(pil.convert("RGB"))


def side_by_side(images: Iterable[np.ndarray], height: int = 160, gap: int = 4) -> np.ndarray:
    """Scale images to one height and place them left to right (a thumbnail strip)."""
    tiles = []
    for image in images:
        rgb = to_rgb_uint8(image)
        width = max(1, round(rgb.shape[1] * height / rgb.shape[0]))
        tiles.append(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA))
    if not tiles:
        raise ValueError("side_by_side needs at least one image")
    spacer = np.full((height, gap, 3), 255, np.uint8)
    row = [tiles[0]]
    for tile in tiles[1:]:
        row += [spacer, tile]
    return np.concatenate(row, axis=1)


def data_url(image: np.ndarray, quality: int = 90) -> str:
    """The image as a ``data:image/jpeg;base64,...`` URL.

    Pages that redraw while results arrive show pictures this way: the URL carries the
    picture itself, so a redraw can never leave the browser asking for a file the server
    has already dropped.
    """
    buffer = io.BytesIO()
    Image.fromarray(to_rgb_uint8(image)).save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
