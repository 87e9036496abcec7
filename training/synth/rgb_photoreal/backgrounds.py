"""Procedural backgrounds (sRGB albedo with baked texture) and bench clutter, vectorised.

Each background is a function ``(rng, size, colour, s) -> float32 [H, W, 3]`` (``s``: pixels per
pixel at 256 px, so a larger bench keeps the same texture scale) registered in
:data:`BACKGROUNDS` under the name a :class:`~.stations.Station` refers to.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from training.synth.geometry import grid, put_text, smooth_noise

Background = Callable[[np.random.Generator, int, np.ndarray, float], np.ndarray]
BACKGROUNDS: dict[str, Background] = {}


def _register(name: str) -> Callable[[Background], Background]:
    def wrap(fn: Background) -> Background:
        BACKGROUNDS[name] = fn
        return fn

    return wrap


def streak_noise(rng: np.random.Generator, size: int, along: int, across: int, angle: float) -> np.ndarray:
    """Noise stretched along one direction (brushing, wood fibres, belt wear), about [-1, 1]."""
    small = rng.uniform(-1, 1, (across, along)).astype(np.float32)
    big = cv2.resize(small, (2 * size, 2 * size), interpolation=cv2.INTER_CUBIC)
    rot = cv2.getRotationMatrix2D((size, size), float(np.degrees(angle)), 1.0)
    rot[:, 2] -= size / 2
    return cv2.warpAffine(big, rot, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _fine_grain(rng: np.random.Generator, size: int, sigma: float = 0.7) -> np.ndarray:
    return cv2.GaussianBlur(rng.standard_normal((size, size), dtype=np.float32), (0, 0), sigma)


@_register("conveyor")
def conveyor(rng: np.random.Generator, size: int, colour: np.ndarray, s: float = 1.0) -> np.ndarray:
    """Rubber belt: transverse ridges, wear streaks along the running direction, side rails."""
    yy, xx = grid(size)
    vertical = rng.random() < 0.5
    along, across = (yy, xx) if vertical else (xx, yy)
    period = rng.uniform(6, 12) * s
    ridge = 0.5 + 0.5 * np.cos(2 * np.pi * along / period + rng.uniform(0, 6.3))
    wear = streak_noise(rng, size, 6, 60, np.pi / 2 if vertical else 0.0)
    shade = 1 + 0.10 * ridge + 0.08 * wear + 0.05 * _fine_grain(rng, size)
    img = colour * shade[..., None]
    rail = rng.uniform(0.03, 0.08) * size
    edge = (across < rail) | (across > size - rail)
    img[edge] = np.float32(rng.uniform(0.45, 0.6)) * (1 + 0.1 * wear[edge, None])
    return img


@_register("tray")
def tray(rng: np.random.Generator, size: int, colour: np.ndarray, s: float = 1.0) -> np.ndarray:
    """Moulded plastic tray: a grid of rounded pockets with shaded walls."""
    pitch = rng.uniform(0.45, 0.8) * size
    yy, xx = grid(size)
    ox, oy = rng.uniform(0, pitch, 2)
    fx = ((xx + ox) % pitch) / pitch - 0.5
    fy = ((yy + oy) % pitch) / pitch - 0.5
    d = np.maximum(np.abs(fx), np.abs(fy))
    wall = np.clip((d - 0.40) / 0.06, 0, 1)  # 0 inside a pocket, 1 on the ridge
    slope = np.where(fx + fy > 0, 0.85, 1.12).astype(np.float32)  # lit and shaded walls
    shade = np.where((wall > 0) & (wall < 1), slope, 1.0) * (1 - 0.06 * wall)
    shade = shade + 0.03 * smooth_noise(rng, (size, size), 5) + 0.015 * _fine_grain(rng, size, 1.0)
    return colour * shade[..., None].astype(np.float32)


@_register("esd_mat")
def esd_mat(rng: np.random.Generator, size: int, colour: np.ndarray, s: float = 1.0) -> np.ndarray:
    """Dissipative mat: fine speckle, a faint dot grid and printed marks."""
    yy, xx = grid(size)
    pitch = rng.uniform(14, 24) * s
    dots = (np.abs((xx % pitch) - pitch / 2) < 0.8 * s) & (np.abs((yy % pitch) - pitch / 2) < 0.8 * s)
    speckle = 0.06 * _fine_grain(rng, size, 0.6) + 0.04 * smooth_noise(rng, (size, size), 6)
    img = colour * (1 + speckle)[..., None]
    img[dots] = img[dots] * 0.8 + 0.12
    if rng.random() < 0.6:
        put_text(
            img,
            "ESD",
            (int(rng.uniform(0, 0.7) * size), int(rng.uniform(0.1, 1) * size)),
            0.5 * s,
            np.clip(colour * 1.6, 0, 1),
            max(1, int(s)),
        )
    return img.astype(np.float32)


@_register("steel")
def steel(rng: np.random.Generator, size: int, colour: np.ndarray, s: float = 1.0) -> np.ndarray:
    """Brushed stainless steel: long brushing streaks, broad sheen, a few smudges."""
    angle = rng.uniform(0, np.pi)
    brushed = 0.5 * streak_noise(rng, size, 8, 200, angle) + 0.5 * streak_noise(rng, size, 3, 90, angle)
    sheen = smooth_noise(rng, (size, size), 3)
    shade = 1 + 0.07 * brushed + 0.10 * sheen
    return (colour * shade[..., None]).astype(np.float32)


@_register("lightbox")
def lightbox(rng: np.random.Generator, size: int, colour: np.ndarray, s: float = 1.0) -> np.ndarray:
    """Seamless white sweep: a soft gradient and almost no texture."""
    yy, _ = grid(size)
    sweep = 1 - rng.uniform(0.02, 0.1) * (yy / size) ** 2
    shade = sweep + 0.01 * smooth_noise(rng, (size, size), 4)
    return (colour * shade[..., None]).astype(np.float32)


@_register("wood")
def wood(rng: np.random.Generator, size: int, colour: np.ndarray, s: float = 1.0) -> np.ndarray:
    """Wooden desk: planks of distorted growth rings with fibre streaks."""
    yy, xx = grid(size)
    angle = rng.uniform(0, np.pi)
    u = np.cos(angle) * xx + np.sin(angle) * yy
    v = -np.sin(angle) * xx + np.cos(angle) * yy
    warp = 18 * s * smooth_noise(rng, (size, size), 4) + 4 * s * smooth_noise(rng, (size, size), 12)
    rings = 0.5 + 0.5 * np.sin((v + warp) / (rng.uniform(3, 7) * s) + 0.02 * u / s)
    fibre = streak_noise(rng, size, 5, 120, angle)
    plank_w = rng.uniform(60, 110) * s
    seam = np.abs(((v + rng.uniform(0, plank_w)) % plank_w) - plank_w / 2) > plank_w / 2 - 1.2 * s
    shade = 0.82 + 0.22 * rings**2 + 0.06 * fibre
    img = colour * shade[..., None]
    img[seam] *= 0.45
    return img.astype(np.float32)


@_register("fabric")
def fabric(rng: np.random.Generator, size: int, colour: np.ndarray, s: float = 1.0) -> np.ndarray:
    """Woven cloth: a fine weave, fuzz and soft folds."""
    yy, xx = grid(size)
    period = rng.uniform(2.5, 4.5) * s
    weave = np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period)
    folds = smooth_noise(rng, (size, size), 3)
    shade = 1 + 0.07 * weave + 0.18 * folds + 0.05 * _fine_grain(rng, size, 0.8)
    return (colour * shade[..., None]).astype(np.float32)


@_register("cutting_mat")
def cutting_mat(rng: np.random.Generator, size: int, colour: np.ndarray, s: float = 1.0) -> np.ndarray:
    """Self-healing cutting mat: a printed grid with heavier lines every five cells, cut marks."""
    yy, xx = grid(size)
    pitch = rng.uniform(9, 15) * s
    ox, oy = rng.uniform(0, 5 * pitch, 2)
    fx, fy = (xx + ox) % pitch, (yy + oy) % pitch
    line = (fx < 0.9 * s) | (fy < 0.9 * s)
    major = (((xx + ox) % (5 * pitch)) < 1.6 * s) | (((yy + oy) % (5 * pitch)) < 1.6 * s)
    img = (
        colour
        * (1 + 0.04 * _fine_grain(rng, size, 0.8) + 0.05 * smooth_noise(rng, (size, size), 5))[..., None]
    )
    ink = np.clip(colour * 1.8 + 0.25, 0, 1).astype(np.float32)
    img[line] = img[line] * 0.6 + ink * 0.4
    img[major] = img[major] * 0.35 + ink * 0.65
    return img.astype(np.float32)


def add_clutter(
    img: np.ndarray, rng: np.random.Generator, count: int, light_dir: tuple[float, float], s: float = 1.0
) -> None:
    """Draw unrelated bench objects (screws, coins, a screwdriver, wires, paper) with shadows.

    Args:
        img: Background albedo, changed in place.
        rng: Random generator.
        count: Number of objects.
        light_dir: Shadow offset direction ``(dx, dy)`` in pixels.
        s: Pixels per pixel at 256 px (object sizes scale with it).
    """
    size = img.shape[0]
    layer = np.zeros_like(img)
    cover = np.zeros(img.shape[:2], np.uint8)
    for _ in range(count):
        kind = int(rng.integers(5))
        x, y = (int(v) for v in rng.uniform(0, size, 2))
        paint = np.zeros(img.shape[:2], np.uint8)
        if kind == 0:  # screw or nut
            r = int(rng.uniform(4, 8) * s)
            cv2.circle(paint, (x, y), r, 255, -1, cv2.LINE_AA)
            colour = (0.62, 0.62, 0.64)
            slot = (0.2, 0.2, 0.2)
            cv2.line(layer, (x - r + 1, y), (x + r - 1, y), slot, max(1, int(1.5 * s)))
        elif kind == 1:  # coin
            r = int(rng.uniform(9, 14) * s)
            cv2.circle(paint, (x, y), r, 255, -1, cv2.LINE_AA)
            colour = (0.78, 0.62, 0.35) if rng.random() < 0.5 else (0.72, 0.72, 0.70)
        elif kind == 2:  # screwdriver / pen
            a = rng.uniform(0, np.pi)
            length = rng.uniform(60, 120) * s
            dx, dy = np.cos(a) * length / 2, np.sin(a) * length / 2
            cv2.line(
                paint,
                (int(x - dx), int(y - dy)),
                (int(x + dx), int(y + dy)),
                255,
                int(rng.uniform(5, 10) * s),
            )
            colour = tuple(float(c) for c in rng.uniform(0.1, 0.9, 3))
        elif kind == 3:  # wire
            pts = np.cumsum(rng.normal(0, 25 * s, (6, 2)), axis=0) + (x, y)
            cv2.polylines(paint, [pts.astype(np.int32)], False, 255, max(2, int(3 * s)), cv2.LINE_AA)
            colour = ((0.75, 0.1, 0.08), (0.05, 0.05, 0.05), (0.9, 0.75, 0.1), (0.1, 0.3, 0.75))[
                int(rng.integers(4))
            ]
        else:  # paper note
            w, h = rng.uniform(40, 80, 2) * s
            box = cv2.boxPoints(((x, y), (w, h), rng.uniform(0, 90))).astype(np.int32)
            cv2.fillConvexPoly(paint, box, 255, cv2.LINE_AA)
            colour = (0.92, 0.91, 0.86)
        alpha = paint.astype(np.float32)[..., None] / 255
        tex = np.asarray(colour, np.float32) * (1 + 0.05 * rng.normal(0, 1, (1, 1, 3)).astype(np.float32))
        layer[:] = layer * (1 - alpha) + tex * alpha
        cover = np.maximum(cover, paint)
    m = cover.astype(np.float32) / 255
    shift = np.float32([[1, 0, light_dir[0] * 0.3], [0, 1, light_dir[1] * 0.3]])
    shadow = cv2.GaussianBlur(cv2.warpAffine(m, shift, (size, size)), (0, 0), 2.5 * s)
    img *= (1 - 0.4 * shadow * (1 - m))[..., None]
    img[:] = img * (1 - m[..., None]) + layer * m[..., None]
