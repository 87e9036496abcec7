"""Shape primitives drawn into :class:`~.layers.Layers`: cylinders (side and cap views), boxes.

Every primitive works on whole-image coordinate grids (vectorised), writes a height map whose
gradient gives the normals, and paints materials: coats (sleeves, films, paint) over substrates
(steel can, aluminium), so scratches and tears can expose what lies beneath.
"""

from __future__ import annotations

import cv2
import numpy as np

from training.synth.rgb_photoreal.layers import Layers
from training.synth.rgb_photoreal.wraps import Texture

NICKEL = np.array([0.78, 0.78, 0.75], np.float32)
ALUMINIUM = np.array([0.84, 0.85, 0.86], np.float32)
COPPER = np.array([0.85, 0.55, 0.38], np.float32)


def local_frame(layers: Layers, cx: float, cy: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``(u, v)`` of every pixel of ``layers`` along and across a direction through
    ``(cx, cy)``."""
    yy, xx = layers.coords()
    c, s = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    dx, dy = xx - np.float32(cx), yy - np.float32(cy)
    return dx * c + dy * s, dy * c - dx * s


def box_distance(u: np.ndarray, v: np.ndarray, half_u: float, half_v: float, radius: float) -> np.ndarray:
    """Signed distance to a rounded rectangle (negative inside)."""
    qx = np.abs(u) - np.float32(half_u - radius)
    qy = np.abs(v) - np.float32(half_v - radius)
    outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0) - np.float32(radius)


def map_texture(
    tex: np.ndarray, u: np.ndarray, v: np.ndarray, u0: float, v0: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sample a flat texture placed with its top-left at ``(u0, v0)`` of a local frame.

    Returns:
        ``(values, inside)``: sampled texture and the boolean footprint.
    """
    h, w = tex.shape[:2]
    col, row = (u - np.float32(u0)), (v - np.float32(v0))
    vals = cv2.remap(tex, col, row, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = (col >= 0) & (col <= w - 1) & (row >= 0) & (row <= h - 1)
    return vals, inside


def cylinder_side(
    layers: Layers,
    centre: tuple[float, float],
    angle: float,
    radius: float,
    length: float,
    wrap: Texture,
    phase: float,
    nub: tuple[float, float],
    can: np.ndarray = NICKEL,
) -> np.ndarray:
    """A cylindrical cell lying on the table, positive terminal towards ``angle``.

    Args:
        layers: Layers to draw into.
        centre: ``(x, y)`` of the can's middle.
        angle: Axis direction in radians.
        radius: Can radius in pixels.
        length: Can length (without the terminal button) in pixels.
        wrap: Unrolled sleeve (rows around, columns along).
        phase: Rotation of the can about its axis (radians): which part of the print faces up.
        nub: Positive button ``(radius, height)`` as fractions of the can radius.
        can: Colour of the plated can.

    Returns:
        The cell's silhouette (bool).
    """
    half = length / 2
    layers = layers.window(centre[0], centre[1], np.hypot(half + nub[1] * radius, radius) + 3)
    u, v = local_frame(layers, centre[0], centre[1], angle)
    d = 0.14 * radius
    vr = np.clip(v / np.float32(radius), -1, 1)
    body = (np.abs(v) < radius) & (np.abs(u) <= half)
    t = np.clip((np.abs(u) - np.float32(half - d)) / np.float32(d), 0, 1)
    h = np.float32(radius) * np.sqrt(1 - vr * vr) * np.sqrt(1 - t * t * 0.85)
    nr, nh = nub[0] * radius, nub[1] * radius
    button = (np.abs(v) < nr) & (u > half - d) & (u <= half + nh)
    hb = np.float32(0.55 * radius) * np.sqrt(np.clip(1 - (v / np.float32(nr)) ** 2, 0, 1))
    h = np.where(button, np.maximum(h, hb), h)
    obj = body | button
    sleeve = body & (u < half - 0.7 * d)
    around, along = wrap.albedo.shape[:2]
    row = ((np.arcsin(vr) + np.float32(phase)) / np.float32(2 * np.pi)) * around
    col = (u + np.float32(half)) / np.float32(length) * (along - 1)
    row, col = row.astype(np.float32), col.astype(np.float32)
    alb = cv2.remap(wrap.albedo, col, row, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    met = cv2.remap(wrap.metal, col, row, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    bump = cv2.remap(wrap.bump, col, row, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    layers.paint(obj, height=h + bump * sleeve, under_albedo=can, under_metal=1.0, tangent=float(angle))
    layers.paint(sleeve, albedo=alb, metal=met, gloss=0.55, rough=0.3, aniso=0.0)
    metal = obj & ~sleeve
    layers.paint(
        metal, albedo=can, metal=1.0, gloss=0.0, rough=0.3, aniso=0.7, tangent=float(angle + np.pi / 2)
    )
    layers.sil |= obj
    layers.terminal |= metal
    return obj


def cylinder_top(
    layers: Layers,
    centre: tuple[float, float],
    radius: float,
    sleeve: np.ndarray,
    washer: np.ndarray,
    positive: bool,
    vents: int,
    spin: float,
    can: np.ndarray = NICKEL,
) -> np.ndarray:
    """A cylindrical cell standing upright, seen from above (cap, washer, crimp, folded sleeve).

    Args:
        layers: Layers to draw into.
        centre: ``(x, y)`` of the cap.
        radius: Can radius in pixels.
        sleeve: Sleeve colour (sRGB) folded over the rim.
        washer: Colour of the insulating ring around the positive cap.
        positive: Positive cap (button, vents, washer) or negative can bottom.
        vents: Number of vent openings around the button.
        spin: Rotation of the cap about its axis (radians).
        can: Colour of the plated metal.

    Returns:
        The cell's silhouette (bool).
    """
    layers = layers.window(centre[0], centre[1], radius + 3)
    yy, xx = layers.coords()
    dx, dy = xx - np.float32(centre[0]), yy - np.float32(centre[1])
    r = np.sqrt(dx * dx + dy * dy) / np.float32(radius)
    phi = np.arctan2(dy, dx)
    obj = r < 1.0
    R = np.float32(radius)
    if positive:
        knots = [0.0, 0.36, 0.42, 0.52, 0.55, 0.70, 0.74, 0.80, 0.86, 0.90, 1.0]
        heights = [0.30, 0.30, 0.16, 0.14, 0.12, 0.12, 0.16, 0.10, 0.16, 0.16, 0.0]
    else:
        knots = [0.0, 0.5, 0.58, 0.64, 0.84, 0.90, 1.0]
        heights = [0.10, 0.09, 0.11, 0.08, 0.08, 0.16, 0.0]
    h = np.interp(r, knots, heights).astype(np.float32) * R
    rim = obj & (r >= 0.86)
    metal = obj & ~rim
    ring = obj & (r >= 0.55) & (r < 0.72) if positive else np.zeros_like(obj)
    layers.paint(obj, height=h, under_albedo=can, under_metal=1.0)
    layers.paint(
        metal, albedo=can, metal=1.0, gloss=0.0, rough=0.28, aniso=0.85, tangent=phi + np.float32(np.pi / 2)
    )
    layers.paint(rim, albedo=sleeve, metal=0.0, gloss=0.6, rough=0.3, aniso=0.0, tangent=phi)
    if positive:
        layers.paint(ring, albedo=washer, metal=0.0, gloss=0.25, rough=0.6, aniso=0.0)
        if vents:
            sector = np.cos(vents * (phi - np.float32(spin))) > 0.55
            holes = obj & (r > 0.42) & (r < 0.53) & sector
            layers.paint(holes, albedo=np.float32([0.04, 0.04, 0.04]), metal=0.0, gloss=0.0, rough=1.0)
            layers.height[holes] -= 0.05 * R
    layers.sil |= obj
    layers.terminal |= metal & (r < 0.6)
    return obj


def slab(
    layers: Layers,
    centre: tuple[float, float],
    angle: float,
    length: float,
    width: float,
    corner: float,
    bevel: float,
    thickness: float,
    margin: float = 0.0,
) -> tuple[Layers, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A flat box or pillow seen from above: the silhouette and a bevelled height map.

    Args:
        layers: Layers to draw into (height and silhouette are set).
        centre: ``(x, y)``.
        angle: Long-axis direction in radians.
        length: Long side in pixels.
        width: Short side in pixels.
        corner: Corner radius in pixels.
        bevel: Width of the rounded edge in pixels.
        thickness: Height of the flat top in pixels.
        margin: Extra room around the box in the returned view (for tabs and posts).

    Returns:
        ``(view, silhouette, inner distance, u, v)``: a cropped view of the layers around the
        box (draw further details into it) and, on that view, the box, the distance from its
        edge and its local frame.
    """
    layers = layers.window(centre[0], centre[1], np.hypot(length / 2 + margin, width / 2 + margin) + 3)
    u, v = local_frame(layers, centre[0], centre[1], angle)
    dist = box_distance(u, v, length / 2, width / 2, corner)
    obj = dist < 0
    t = np.clip(-dist / np.float32(max(bevel, 1e-3)), 0, 1)
    h = np.float32(thickness) * np.sqrt(t * (2 - t))
    layers.paint(obj, height=h)
    layers.sil |= obj
    return layers, obj, -dist, u, v
