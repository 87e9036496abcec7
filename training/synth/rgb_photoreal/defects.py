"""External defects drawn into the material layers of a battery (never onto the background).

Each variant changes height and materials inside the battery silhouette, so shading makes
dents break the highlights, scratches catch the light and crusts look rough. The exact mask is
decided after rendering by :mod:`.battery` (the pixels that differ from the clean photo).
:data:`DEFECTS` maps each RGB label to its variants.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from training.synth.geometry import blob_mask, grid, smooth_noise
from training.synth.rgb_photoreal.layers import Layers

Defect = Callable[[Layers, np.random.Generator, float], None]


def coat(layers: Layers) -> np.ndarray:
    """Pixels whose top coat differs from what lies beneath (sleeves, films, paint)."""
    return layers.sil & (
        (np.abs(layers.albedo - layers.under_albedo).sum(-1) > 0.15)
        | (np.abs(layers.metal - layers.under_metal) > 0.3)
    )


def pick_point(
    region: np.ndarray, fallback: np.ndarray, rng: np.random.Generator, margin: int
) -> tuple[int, int]:
    """A random pixel ``(x, y)`` at least ``margin`` inside ``region`` (else inside ``fallback``)."""
    k = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    for cand in (region, fallback):
        inner = cv2.erode(cand.astype(np.uint8), k).astype(bool)
        if inner.any():
            ys, xs = np.nonzero(inner)
            i = int(rng.integers(len(xs)))
            return int(xs[i]), int(ys[i])
    ys, xs = np.nonzero(fallback)
    i = int(rng.integers(len(xs)))
    return int(xs[i]), int(ys[i])


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)


def _grain(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    g = cv2.GaussianBlur(rng.standard_normal(shape, dtype=np.float32), (0, 0), sigma)
    return g / (g.std() + 1e-6)


def _stain(
    layers: Layers, rng: np.random.Generator, s: float, near_terminal: float, radius: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Alpha (0..1, zero outside the battery) of an irregular stain and its grain."""
    prefer = layers.terminal & layers.sil if rng.random() < near_terminal else layers.sil
    cx, cy = pick_point(prefer, layers.sil, rng, int(6 * s))
    radii = (rng.uniform(*radius) * s, rng.uniform(*radius) * s)
    blob = blob_mask(rng, layers.sil.shape, (cx, cy), radii, lobes=int(rng.integers(4, 9)), roughness=0.5)
    grain = _grain(rng, blob.shape, 1.0 * s)
    alpha = np.clip(_soft(blob, 2.0 * s) * (0.8 + 0.35 * grain), 0, 1)
    alpha[alpha < 0.06] = 0
    alpha[~layers.sil] = 0
    return alpha, grain


def corrosion(layers: Layers, rng: np.random.Generator, s: float) -> None:
    """Rust or verdigris crust, often starting at a terminal, seam or vent: rough and matte."""
    alpha, grain = _stain(layers, rng, s, 0.6, (8, 20))
    colour = np.float32(
        [[0.45, 0.22, 0.08], [0.30, 0.55, 0.45], [0.28, 0.18, 0.10], [0.6, 0.4, 0.15]][int(rng.integers(4))]
    )
    tex = colour * (0.75 + 0.25 * np.clip(grain, -2, 2))[..., None]
    a = alpha[..., None]
    layers.albedo[:] = layers.albedo * (1 - a) + tex * a
    layers.metal *= 1 - alpha
    layers.gloss *= 1 - alpha
    layers.rough[:] = layers.rough * (1 - alpha) + alpha
    layers.aniso *= 1 - alpha
    layers.height += alpha * (0.6 + 0.5 * grain) * s


def residue(layers: Layers, rng: np.random.Generator, s: float) -> None:
    """Dried electrolyte: a white crystalline crust around a vent, terminal or seam."""
    alpha, grain = _stain(layers, rng, s, 0.8, (6, 16))
    crystals = np.clip(0.6 + 0.5 * _grain(rng, alpha.shape, 0.6 * s), 0, 1) * alpha
    a = crystals[..., None]
    white = np.float32([0.93, 0.92, 0.86])
    layers.albedo[:] = layers.albedo * (1 - a) + white * a
    layers.metal *= 1 - crystals
    layers.gloss[:] = layers.gloss * (1 - crystals) + 0.15 * crystals
    layers.rough[:] = layers.rough * (1 - crystals) + 0.9 * crystals
    layers.height += crystals * 1.2 * s


def grease(layers: Layers, rng: np.random.Generator, s: float) -> None:
    """An oily or dirty smear: darker, glossier film with a sharp edge."""
    alpha, _ = _stain(layers, rng, s, 0.2, (10, 24))
    alpha *= np.float32(rng.uniform(0.6, 0.9))
    dirt = np.float32([[0.12, 0.10, 0.07], [0.25, 0.2, 0.12], [0.05, 0.05, 0.05]][int(rng.integers(3))])
    a = alpha[..., None]
    layers.albedo[:] = layers.albedo * (1 - a) + dirt * a
    layers.gloss[:] = layers.gloss * (1 - alpha) + 0.7 * alpha
    layers.rough[:] = layers.rough * (1 - alpha) + 0.15 * alpha
    layers.metal *= 1 - 0.7 * alpha


def dust(layers: Layers, rng: np.random.Generator, s: float) -> None:
    """Dust and grit: a patch of small matte particles."""
    alpha, _ = _stain(layers, rng, s, 0.1, (10, 22))
    specks = (_grain(rng, alpha.shape, 0.5 * s) > 1.0) & (alpha > 0.1)
    specks |= (alpha > 0.4) & (_grain(rng, alpha.shape, 1.2 * s) > 0.3)
    colour = np.float32([[0.55, 0.5, 0.42], [0.3, 0.28, 0.25], [0.75, 0.72, 0.66]][int(rng.integers(3))])
    layers.paint(specks, albedo=colour, metal=0.0, gloss=0.0, rough=1.0)
    layers.height[specks] += 0.5 * s


def _polyline_mask(
    shape: tuple[int, int],
    rng: np.random.Generator,
    start: tuple[int, int],
    steps: int,
    step: tuple[float, float],
    width: int,
) -> tuple[np.ndarray, float]:
    x, y = start
    angle = rng.uniform(0, 2 * np.pi)
    pts = [(x, y)]
    for _ in range(steps):
        angle += rng.normal(0, 0.12)
        d = rng.uniform(*step)
        x, y = x + d * np.cos(angle), y + d * np.sin(angle)
        pts.append((x, y))
    layer = np.zeros(shape, np.uint8)
    cv2.polylines(layer, [np.round(np.array(pts)).astype(np.int32)], False, 1, width, cv2.LINE_8)
    return layer.astype(bool), angle


def deep_scratch(layers: Layers, rng: np.random.Generator, s: float) -> None:
    """One to three gouges through the coat: bright bare metal with a groove that catches light."""
    exposed = coat(layers)
    for _ in range(int(rng.integers(1, 4))):
        start = pick_point(exposed, layers.sil, rng, int(4 * s))
        line, angle = _polyline_mask(
            layers.sil.shape,
            rng,
            start,
            int(rng.integers(3, 8)),
            (5 * s, 14 * s),
            max(1, int(round(rng.uniform(1.0, 2.5) * s))),
        )
        line &= layers.sil
        layers.paint(
            line,
            albedo=np.clip(layers.under_albedo * 1.1, 0, 1),
            metal=np.maximum(layers.under_metal, 0.6),
            gloss=0.2,
            rough=0.15,
            aniso=1.0,
            tangent=float(angle + np.pi / 2),
        )
        layers.height[line] -= 0.8 * s


def scuffs(layers: Layers, rng: np.random.Generator, s: float) -> None:
    """A patch of fine parallel scuff marks: lighter, rougher lines along one direction."""
    cx, cy = pick_point(layers.sil, layers.sil, rng, int(8 * s))
    yy, xx = grid(layers.sil.shape[0])
    angle = rng.uniform(0, np.pi)
    u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    v = (yy - cy) * np.cos(angle) - (xx - cx) * np.sin(angle)
    half_u, half_v = rng.uniform(12, 26) * s, rng.uniform(6, 12) * s
    patch = (np.abs(u) < half_u) & (np.abs(v) < half_v)
    period = rng.uniform(2.5, 4.0) * max(s, 0.8)
    wobble = smooth_noise(rng, patch.shape, 6)
    streak = np.cos(v * np.float32(2 * np.pi / period) + 2.5 * wobble) > 0.6
    broken = smooth_noise(rng, patch.shape, 24) > -0.3
    marks = streak & broken & patch & layers.sil
    light = layers.albedo.mean(axis=-1, keepdims=True) > 0.55  # dark marks on light coats, pale on dark
    albedo = np.where(light, layers.albedo * 0.55, layers.albedo * 0.45 + 0.5)
    layers.paint(marks, albedo=albedo, gloss=0.05, rough=0.8, tangent=float(angle + np.pi / 2), aniso=1.0)
    layers.height[marks] -= 0.3 * s


def dent(layers: Layers, rng: np.random.Generator, s: float) -> None:
    """A dent: a smooth depression with a sharper crease; highlights bend and break over it."""
    cx, cy = pick_point(layers.sil, layers.sil, rng, int(10 * s))
    yy, xx = grid(layers.sil.shape[0])
    a = rng.uniform(0, np.pi)
    rx, ry = rng.uniform(8, 20) * s, rng.uniform(5, 12) * s
    u = (xx - cx) * np.cos(a) + (yy - cy) * np.sin(a)
    v = (yy - cy) * np.cos(a) - (xx - cx) * np.sin(a)
    g = np.exp(-0.5 * ((u / rx) ** 2 + (v / ry) ** 2))
    crease = np.exp(-0.5 * ((u / (rx * 0.8)) ** 2 + (v / (1.2 * s)) ** 2))
    depth = rng.uniform(4, 9) * s
    bowl = np.clip((g - 0.08) / 0.92, 0, 1) * depth + np.clip((crease - 0.2) / 0.8, 0, 1) * depth * 0.5
    bowl[~layers.sil] = 0
    layers.height -= bowl.astype(np.float32)
    wrinkled = (bowl > 0.3 * depth) & coat(layers)
    layers.gloss[wrinkled] *= 0.6
    layers.albedo[wrinkled] *= 0.93


def torn_wrap(layers: Layers, rng: np.random.Generator, s: float) -> None:
    """A torn or peeled sleeve/film: bare substrate with a lifted, pale curled edge."""
    exposed = coat(layers)
    if not exposed.any():
        dent(layers, rng, s)  # nothing to tear on a bare can: the damage is a dent
        return
    cx, cy = pick_point(exposed, layers.sil, rng, int(6 * s))
    tear = (
        blob_mask(
            rng,
            exposed.shape,
            (cx, cy),
            (rng.uniform(8, 20) * s, rng.uniform(5, 14) * s),
            lobes=6,
            roughness=0.6,
        )
        & exposed
    )
    if tear.sum() < 12:
        dent(layers, rng, s)  # the coat is only a thin rim here: the damage is a dent
        return
    ring = cv2.dilate(tear.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=max(1, int(2 * s))).astype(
        bool
    )
    flap = ring & ~tear & layers.sil
    layers.paint(tear, albedo=layers.under_albedo, metal=layers.under_metal, gloss=0.1, rough=0.35, aniso=0.4)
    inner_edge = tear & cv2.dilate(flap.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    layers.albedo[inner_edge] *= 0.55  # shadow under the lifted edge
    layers.paint(flap, albedo=np.float32([0.88, 0.87, 0.83]), metal=0.0, gloss=0.3, rough=0.5)
    layers.height[flap] += 1.5 * s
    layers.height[tear] -= 0.4 * s


DEFECTS: dict[str, dict[str, Defect]] = {
    "pollution": {"corrosion": corrosion, "residue": residue, "grease": grease, "dust": dust},
    "scratch": {"deep_scratch": deep_scratch, "scuffs": scuffs},
    "damage": {"dent": dent, "torn_wrap": torn_wrap},
}
