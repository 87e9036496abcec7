"""Defects as changes of material fractions: voids (air) and resin overflow.

A void replaces the material of a region (electrode coating or resin) by air over a share
``v`` of each pixel; overflowing resin fills a share ``c`` of pixels that were air. The defect's
mask is exactly ``share >= 0.5`` on the output grid, so it always matches what the scanner saw.
Voids and blobs are unions of ellipses whose coverage comes from an approximate signed
distance, as for every other shape (:mod:`.phantom`).
"""

from __future__ import annotations

import numpy as np

from training.synth.physics.phantom import Canvas

TRIES = 30


def _ellipse_cover(
    shape: tuple[int, int], cx: float, cy: float, a: float, b: float, angle: float
) -> tuple[tuple[slice, slice], np.ndarray]:
    """Coverage of an ellipse (pixels) inside its bounding window: ``(window, coverage)``."""
    h, w = shape
    ext = max(a, b) + 2
    y0, y1 = int(max(0, np.floor(cy - ext))), int(min(h, np.ceil(cy + ext) + 1))
    x0, x1 = int(max(0, np.floor(cx - ext))), int(min(w, np.ceil(cx + ext) + 1))
    if y1 <= y0 or x1 <= x0:
        return (slice(0, 0), slice(0, 0)), np.zeros((0, 0), np.float32)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = xx - np.float32(cx), yy - np.float32(cy)
    c, s = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    u, v = (c * dx + s * dy) / np.float32(a), (-s * dx + c * dy) / np.float32(b)
    sdf = (np.sqrt(u * u + v * v) - 1) * np.float32(min(a, b))
    return (slice(y0, y1), slice(x0, x1)), np.clip(np.float32(0.5) - sdf, 0.0, 1.0)


def _union(shape: tuple[int, int], ellipses: list[tuple[float, float, float, float, float]]) -> np.ndarray:
    out = np.zeros(shape, np.float32)
    for e in ellipses:
        win, cov = _ellipse_cover(shape, *e)
        if cov.size:
            np.maximum(out[win], cov, out=out[win])
    return out


def voids(
    region: np.ndarray, rng: np.random.Generator, centre: tuple[float, float] | None = None
) -> np.ndarray:
    """Air inclusions inside ``region``: one void, a cluster, or an elongated delamination.

    Args:
        region: Fraction of each pixel that belongs to the region where voids may form.
        rng: Defect generator.
        centre: Winding centre in pixels (jelly roll): elongated voids then follow the windings.

    Returns:
        Void share of every pixel, non-empty at the 0.5 level.
    """
    n = region.shape[0]
    for threshold in (0.95, 0.75, 0.5):
        ys, xs = np.nonzero(region >= threshold)
        if len(xs):
            break
    if not len(xs):
        ys, xs = np.unravel_index(np.argmax(region), region.shape)
        ys, xs = np.atleast_1d(ys), np.atleast_1d(xs)
    for attempt in range(TRIES):
        k = int(rng.integers(len(xs)))
        cx, cy = xs[k] + rng.uniform(-0.5, 0.5), ys[k] + rng.uniform(-0.5, 0.5)
        r = float(np.exp(rng.uniform(np.log(1.1), np.log(max(n / 9, 1.2))))) * (
            0.5 if attempt > TRIES // 2 else 1
        )
        style = rng.choice(["single", "cluster", "elongated"], p=[0.45, 0.35, 0.2])
        tangent = (
            np.arctan2(cy - centre[1], cx - centre[0]) + np.pi / 2
            if centre is not None
            else rng.uniform(0, np.pi)
        )
        if style == "single":
            q = rng.uniform(0.6, 1.0)
            ell = [(cx, cy, r, max(r * q, 1.0), rng.uniform(0, np.pi))]
        elif style == "elongated":
            ell = [(cx, cy, r * rng.uniform(1.5, 3.0), max(r * rng.uniform(0.2, 0.45), 1.0), tangent)]
        else:
            m = int(rng.integers(3, 11))
            rs = np.maximum(r * rng.uniform(0.2, 0.6, m), 1.0)
            offs = rng.normal(0, 1.2 * r, (m, 2))
            ell = [
                (cx + ox, cy + oy, ri, ri * rng.uniform(0.6, 1.0), rng.uniform(0, np.pi))
                for (ox, oy), ri in zip(offs, rs)
            ]
        v = _union(region.shape, ell) * region
        if (v >= 0.5).any():
            return v
    v = _union(region.shape, [(float(xs[0]), float(ys[0]), 1.5, 1.5, 0.0)]) * region  # last resort
    if not (v >= 0.5).any():
        v[ys[0], xs[0]] = max(v[ys[0], xs[0]], 0.5)
    return v


def overflow(cv: Canvas, ctx: dict, axis: str, rng: np.random.Generator) -> np.ndarray:
    """Resin where it does not belong; returns the resin share added to each (air) pixel.

    ``x`` slices: a blob over the bus bars and cell tops, resin risen in a gap between cells
    above the fill line, or resin climbing beyond the resin line. ``y`` slices: resin in the
    gaps of a cut above the fill line, or resin leaked out of the case.
    """
    free = np.clip(1.0 - cv.occupied, 0.0, 1.0)
    px = cv.frame.px
    for _ in range(TRIES):
        shapes = []  # ellipses in mm: cx, cy, a, b, angle
        if axis == "x":
            xi0, xi1 = ctx["inner"]
            mode = rng.choice(["top", "gap", "climb"])
            if mode == "top":
                cx = rng.uniform(xi0 + 0.1 * (xi1 - xi0), xi1 - 0.1 * (xi1 - xi0))
                shapes = [
                    (
                        cx + rng.normal(0, 4),
                        ctx["bar_top"] + rng.uniform(-1, 4),
                        rng.uniform(5, 25),
                        rng.uniform(1.5, 6),
                        rng.normal(0, 0.1),
                    )
                    for _ in range(int(rng.integers(1, 4)))
                ]
            elif mode == "gap" and ctx["gaps"]:
                a, b = ctx["gaps"][int(rng.integers(len(ctx["gaps"])))]
                rise = rng.uniform(0.2, 1.0) * (ctx["fill_y"] - ctx["cell_top"]) + 2
                shapes = [((a + b) / 2, ctx["fill_y"] - rise / 2, max(b - a, 1.5), rise / 2 + 1, 0.0)]
            else:
                cx = rng.uniform(xi0, xi1)
                shapes = [
                    (
                        cx,
                        ctx["fill_y"] - rng.uniform(1, 6),
                        rng.uniform(3, 12),
                        rng.uniform(3, 12),
                        rng.uniform(0, np.pi),
                    )
                ]
        else:
            x0, y0, x1, y1 = ctx["box"]
            if not ctx["potted"] and ctx["gaps"] and rng.random() < 0.6:
                a, b = ctx["gaps"][int(rng.integers(len(ctx["gaps"])))]
                cy = rng.uniform(y0, y1)
                shapes = [((a + b) / 2, cy, max(b - a, 1.5), rng.uniform(5, 0.5 * (y1 - y0)), 0.0)]
            else:
                side = int(rng.integers(4))
                t = rng.uniform(0.15, 0.85)
                cx, cy = [
                    (x0, y0 + t * (y1 - y0)),
                    (x1, y0 + t * (y1 - y0)),
                    (x0 + t * (x1 - x0), y0),
                    (x0 + t * (x1 - x0), y1),
                ][side]
                shapes = [
                    (
                        cx + rng.normal(0, 1),
                        cy + rng.normal(0, 1),
                        rng.uniform(2, 12),
                        rng.uniform(2, 12),
                        rng.uniform(0, np.pi),
                    )
                    for _ in range(int(rng.integers(1, 4)))
                ]
        ell = []
        for ex, ey, a, b, ang in shapes:
            pxl = cv.frame.to_pixel(ex, ey)
            ell.append((pxl[0], pxl[1], max(a / px, 1.0), max(b / px, 1.0), ang + cv.frame.angle))
        c = _union(free.shape, ell) * free
        if (c >= 0.5).any():
            return c
    ys, xs = np.nonzero(free >= 0.5)
    if len(xs):  # last resort: a small blob in any air pixel
        k = int(rng.integers(len(xs)))
        return _union(free.shape, [(float(xs[k]), float(ys[k]), 3.0, 3.0, 0.0)]) * free
    # No air in the frame at all (zoomed into the module): the resin displaces what was there.
    n = free.shape[0]
    return _union(
        free.shape, [(float(rng.uniform(0.2, 0.8) * n), float(rng.uniform(0.2, 0.8) * n), 3.0, 3.0, 0.0)]
    )
