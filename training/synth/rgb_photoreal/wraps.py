"""Printed surfaces: cell sleeves (wraps) with brand, text, logo, barcode and seam; stickers.

Textures are drawn once per battery in *unrolled* coordinates and mapped onto the shapes by
:mod:`.objects` (a cylinder's wrap is foreshortened towards its limbs by that mapping).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BRANDS = ("VOLTRA", "NOVACELL", "KEMTEC", "ARGENTA", "LUMENA", "ENERGEX", "POLARIS", "ORIONX", "TERRA")
FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
)
# Sleeve colour schemes: (main, accent, ink) in sRGB.
SCHEMES = np.array(
    [
        [[0.10, 0.25, 0.60], [0.85, 0.85, 0.88], [0.95, 0.95, 0.95]],  # blue / silver
        [[0.12, 0.45, 0.22], [0.10, 0.10, 0.10], [0.95, 0.95, 0.90]],  # green
        [[0.85, 0.45, 0.60], [0.20, 0.20, 0.22], [0.10, 0.10, 0.10]],  # pink
        [[0.08, 0.08, 0.09], [0.75, 0.45, 0.20], [0.90, 0.70, 0.30]],  # black / copper
        [[0.45, 0.15, 0.50], [0.90, 0.90, 0.92], [0.95, 0.95, 0.95]],  # purple
        [[0.80, 0.12, 0.10], [0.95, 0.80, 0.10], [0.98, 0.98, 0.98]],  # red / yellow
        [[0.92, 0.55, 0.10], [0.10, 0.10, 0.12], [0.08, 0.08, 0.08]],  # orange
        [[0.25, 0.55, 0.80], [0.95, 0.95, 0.97], [0.05, 0.10, 0.30]],  # light blue
        [[0.90, 0.90, 0.88], [0.15, 0.35, 0.65], [0.10, 0.10, 0.12]],  # white
    ],
    np.float32,
)


@dataclass
class Texture:
    """An unrolled printed surface.

    Attributes:
        albedo: sRGB ``[H, W, 3]``.
        metal: Metallic ink share ``[H, W]``.
        bump: Relief in pixels ``[H, W]`` (sleeve seam, embossing).
    """

    albedo: np.ndarray
    metal: np.ndarray
    bump: np.ndarray


def draw_text(
    img: np.ndarray, text: str, org: tuple[int, int], height_px: float, colour, font: int, thickness: int = 1
) -> None:
    """Anti-aliased text of about ``height_px`` cap height on a float image, in place."""
    scale = max(height_px, 3.0) / 22.0
    layer = np.zeros(img.shape[:2], np.uint8)
    cv2.putText(layer, text, org, font, scale, 255, max(1, thickness), cv2.LINE_AA)
    alpha = layer.astype(np.float32)[..., None] / 255.0
    img[:] = img * (1 - alpha) + np.asarray(colour, np.float32) * alpha


def barcode(img: np.ndarray, rng: np.random.Generator, x: int, y: int, w: int, h: int) -> None:
    """A 1-D barcode on a white quiet zone, in place (horizontal bars pattern, vertical lines)."""
    if w < 8 or h < 4:
        return
    img[y : y + h, x : x + w] = (0.96, 0.96, 0.94)
    widths = rng.integers(1, 4, 64)
    pos = x + 2
    dark = True
    for wd in widths:
        if pos + wd > x + w - 2:
            break
        if dark:
            img[y + 1 : y + h - 1, pos : pos + wd] = (0.05, 0.05, 0.05)
        pos += int(wd)
        dark = not dark


def data_matrix(img: np.ndarray, rng: np.random.Generator, x: int, y: int, side: int) -> None:
    """A small 2-D code (random modules with an L finder), in place."""
    n = 10
    cell = max(1, side // n)
    bits = rng.random((n, n)) < 0.5
    bits[:, 0] = True
    bits[-1, :] = True
    bits[0, ::2] = True
    big = np.kron(bits, np.ones((cell, cell), bool))
    h, w = big.shape
    patch = img[y : y + h, x : x + w]
    big = big[: patch.shape[0], : patch.shape[1]]
    patch[:] = (0.95, 0.95, 0.93)
    patch[big] = (0.05, 0.05, 0.05)


def _model_name(rng: np.random.Generator, form: str) -> str:
    prefix = ("INR", "ICR", "IMR", "NCR")[int(rng.integers(4))]
    return f"{prefix}{form}-{int(rng.integers(20, 40))}{'ABEGQRS'[int(rng.integers(7))]}"


def cylinder_wrap(rng: np.random.Generator, around: int, along: int, form: str, chemistry: str) -> Texture:
    """Sleeve of a cylindrical cell, rows around the circumference, columns along the axis.

    Args:
        rng: Random generator.
        around: Texture rows (the circumference in pixels).
        along: Texture columns (the can length in pixels).
        form: Size code printed on it (``18650``, ``21700``, ``AA``, ...).
        chemistry: ``li-ion`` or ``alkaline`` (voltage and wording).

    Returns:
        The unrolled sleeve.
    """
    main, accent, ink = SCHEMES[int(rng.integers(len(SCHEMES)))] * np.float32(rng.uniform(0.9, 1.08))
    alb = np.empty((around, along, 3), np.float32)
    alb[:] = main
    metal = np.zeros((around, along), np.float32)
    bump = np.zeros((around, along), np.float32)
    layout = int(rng.integers(3))
    if layout == 0:  # accent band at the positive end (often metallic ink)
        cut = int(along * rng.uniform(0.55, 0.75))
        alb[:, cut:] = accent
        metal[:, cut:] = 0.8 if rng.random() < 0.5 else 0.0
    elif layout == 1:  # stripes along the axis
        for _ in range(int(rng.integers(1, 4))):
            r0 = int(rng.integers(around))
            alb[r0 : r0 + max(2, around // 14)] = accent
    else:  # diagonal swoosh
        yy, xx = np.mgrid[0:around, 0:along].astype(np.float32)
        swoosh = np.abs((yy / around) - 0.4 * (xx / along) - rng.uniform(0.1, 0.6)) < rng.uniform(0.05, 0.12)
        alb[swoosh] = accent
    font = FONTS[int(rng.integers(len(FONTS)))]
    text_h = around * rng.uniform(0.07, 0.11)
    brand = BRANDS[int(rng.integers(len(BRANDS)))]
    lines = (
        [brand, _model_name(rng, form), f"3.6V {int(rng.integers(20, 50)) * 100}mAh"]
        if chemistry == "li-ion"
        else [brand, f"{form} ALKALINE", "1.5V  LR6" if form == "AA" else "1.5V  LR03"]
    )
    row = int(around * rng.uniform(0.05, 0.2))
    for k, text in enumerate(lines):
        draw_text(
            alb,
            text,
            (int(along * rng.uniform(0.08, 0.2)), row),
            text_h * (1.6 if k == 0 else 0.9),
            ink,
            font,
            2 if k == 0 else 1,
        )
        row += int(text_h * (2.4 if k == 0 else 1.5))
    # Logo: a ring with a bolt-like triangle.
    lx, ly, lr = (
        int(along * rng.uniform(0.55, 0.8)),
        int(around * rng.uniform(0.2, 0.35)),
        max(3, int(text_h * 1.3)),
    )
    cv2.circle(alb, (lx, ly), lr, tuple(float(c) for c in ink), max(1, lr // 4), cv2.LINE_AA)
    tri = np.array([[lx - lr // 2, ly + lr // 2], [lx + lr // 2, ly + lr // 2], [lx, ly - lr // 2]], np.int32)
    cv2.fillConvexPoly(alb, tri, tuple(float(c) for c in accent), cv2.LINE_AA)
    # Warnings and barcode on the back half.
    row = int(around * 0.55)
    for _ in range(int(rng.integers(2, 4))):
        draw_text(
            alb, "CAUTION DO NOT SHORT", (int(along * 0.1), row), text_h * 0.6, ink, cv2.FONT_HERSHEY_PLAIN
        )
        row += int(text_h * 1.1)
    barcode(alb, rng, int(along * 0.5), int(around * 0.62), int(along * 0.3), int(around * 0.15))
    # Shrink-sleeve seam: overlapping film makes a ridge and a slightly darker line.
    seam = int(rng.integers(around))
    width = max(1, around // 60)
    rows = np.arange(seam, seam + width) % around
    alb[rows] *= 0.8
    bump[rows] = 0.8
    return Texture(alb, metal, cv2.GaussianBlur(bump, (0, 0), 0.7))


def sticker(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A white or yellow product label with text lines, a barcode and a 2-D code (sRGB)."""
    base = np.array((0.94, 0.94, 0.92) if rng.random() < 0.7 else (0.95, 0.85, 0.25), np.float32)
    img = np.empty((max(h, 4), max(w, 4), 3), np.float32)
    img[:] = base
    th = max(3.0, h * 0.12)
    row = int(th * 1.4)
    font = FONTS[int(rng.integers(len(FONTS)))]
    for k in range(int(rng.integers(2, 4))):
        text = (
            BRANDS[int(rng.integers(len(BRANDS)))],
            f"SN {int(rng.integers(10**7, 10**8))}",
            f"{int(rng.integers(10, 99))}.{int(rng.integers(10))}V {int(rng.integers(5, 300))}Ah",
        )[k]
        draw_text(img, text, (int(w * 0.05), row), th * (1.2 if k == 0 else 0.8), (0.08, 0.08, 0.1), font)
        row += int(th * 1.5)
    barcode(img, rng, int(w * 0.05), min(row, h - int(h * 0.3)), int(w * 0.55), int(h * 0.25))
    data_matrix(img, rng, int(w * 0.7), int(h * 0.55), int(min(w * 0.25, h * 0.4)))
    return img
