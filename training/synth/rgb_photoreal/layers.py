"""Material layers of a scene and their shading (Blinn-Phong, Kajiya-Kay brushing, studio env).

Objects are drawn as per-pixel material maps (:class:`Layers`); normals come from the height
map, so dents, ridges and seams shade themselves and break highlights without special cases.
Everything is in linear light; :mod:`.camera` applies the tone curve.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.geometry import grid


@dataclass
class Layers:
    """Per-pixel material maps of the batteries in a photo (float32, ``[H, W]`` unless noted).

    Attributes:
        height: Surface height in pixels (normals are its gradient).
        albedo: Top-coat colour, sRGB ``[H, W, 3]`` in [0, 1].
        metal: 1 for bare metal (coloured reflections), 0 for plastic, paint, film.
        gloss: Clear-coat specular strength of non-metals.
        rough: Roughness in [0, 1] (0 mirror-like, 1 matte).
        tangent: Brushing direction in radians (image plane).
        aniso: Share of anisotropic (brushed) reflection.
        under_albedo: What lies under the coat (exposed by scratches and tears) ``[H, W, 3]``.
        under_metal: Metal share of what lies under the coat.
        sil: Battery silhouette (bool).
        zone: Where defects may be centred (bool, inside the silhouette away from its edge).
        terminal: Terminals, vents and seams (bool): where residue and corrosion start.
    """

    height: np.ndarray
    albedo: np.ndarray
    metal: np.ndarray
    gloss: np.ndarray
    rough: np.ndarray
    tangent: np.ndarray
    aniso: np.ndarray
    under_albedo: np.ndarray
    under_metal: np.ndarray
    sil: np.ndarray
    zone: np.ndarray
    terminal: np.ndarray
    # Where a cropped view sits in the full image (plain attributes, not map fields).
    origin = (0, 0)
    full_size = 0

    @classmethod
    def empty(cls, size: int) -> Layers:
        """Layers with nothing drawn."""
        maps = {}
        for f in dataclasses.fields(cls):
            shape = (size, size, 3) if f.name in ("albedo", "under_albedo") else (size, size)
            maps[f.name] = np.zeros(shape, bool if f.name in ("sil", "zone", "terminal") else np.float32)
        maps["rough"] += 1
        return cls(**maps)

    def copy(self) -> Layers:
        """Deep copy (defects draw on a copy so the clean photo can be rendered too)."""
        return Layers(**{f.name: getattr(self, f.name).copy() for f in dataclasses.fields(self)})

    def crop(self, rows: slice, cols: slice) -> Layers:
        """A view of a rectangle of every map (writes go to the full layers)."""
        part = Layers(**{f.name: getattr(self, f.name)[rows, cols] for f in dataclasses.fields(self)})
        part.origin = (self.origin[0] + (rows.start or 0), self.origin[1] + (cols.start or 0))
        part.full_size = self.full_size or self.height.shape[0]
        return part

    def window(self, cx: float, cy: float, half: float) -> Layers:
        """A cropped view of the square of half-side ``half`` around ``(cx, cy)`` (clipped)."""
        h, w = self.height.shape
        y0, x0 = self.origin
        rows = slice(
            int(np.clip(np.floor(cy - half) - y0, 0, h)), int(np.clip(np.ceil(cy + half) + 1 - y0, 0, h))
        )
        cols = slice(
            int(np.clip(np.floor(cx - half) - x0, 0, w)), int(np.clip(np.ceil(cx + half) + 1 - x0, 0, w))
        )
        return self.crop(rows, cols)

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        """Full-image pixel coordinates ``(yy, xx)`` of this (possibly cropped) view."""
        h, w = self.height.shape
        y0, x0 = self.origin
        yy, xx = grid(self.full_size or h)
        return yy[y0 : y0 + h, x0 : x0 + w], xx[y0 : y0 + h, x0 : x0 + w]

    def paint(self, where: np.ndarray, **values: np.ndarray | float) -> None:
        """Set maps inside the boolean ``where`` to scalars, colours or full-size arrays."""
        for name, value in values.items():
            target = getattr(self, name)
            v = np.asarray(value, dtype=target.dtype)
            target[where] = v[where] if v.shape[:2] == where.shape else v


@dataclass(frozen=True)
class Light:
    """Lighting of one photo.

    Attributes:
        direction: Unit vector to the key light ``(x, y, z)``, z towards the camera.
        colour: Linear RGB of the key light (colour temperature times intensity).
        ambient: Ambient (sky, fill) intensity.
        size: Softness 0..1 (wider, weaker highlights when soft).
    """

    direction: np.ndarray
    colour: np.ndarray
    ambient: float
    size: float


def kelvin_to_rgb(kelvin: float) -> np.ndarray:
    """Approximate linear RGB of a black body at ``kelvin`` (normalised to green = 1)."""
    t = kelvin / 100.0
    r = 255.0 if t <= 66 else 329.7 * (t - 60) ** -0.1332
    g = 99.47 * np.log(t) - 161.1 if t <= 66 else 288.1 * (t - 60) ** -0.0755
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5 * np.log(t - 10) - 305.0)
    rgb = (np.clip(np.array([r, g, b], np.float32), 1, 255) / 255.0) ** 2.2
    return (rgb / rgb[1]).astype(np.float32)


def normals(height: np.ndarray, max_slope: float = 4.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit normals ``(nx, ny, nz)`` of a height map (z towards the camera)."""
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3) * np.float32(0.125)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3) * np.float32(0.125)
    np.clip(gx, -max_slope, max_slope, out=gx)
    np.clip(gy, -max_slope, max_slope, out=gy)
    inv = 1.0 / np.sqrt(gx * gx + gy * gy + 1.0)
    return -gx * inv, -gy * inv, inv


def shade(layers: Layers, light: Light) -> np.ndarray:
    """Linear RGB radiance of every pixel of the layers (background pixels are garbage).

    Args:
        layers: Material maps.
        light: Key light and ambient.

    Returns:
        float32 ``[H, W, 3]`` linear radiance.
    """
    nx, ny, nz = normals(layers.height)
    lx, ly, lz = (float(v) for v in light.direction)
    hx, hy, hz = lx, ly, lz + 1.0  # half vector with the viewer at +z
    hn = 1.0 / math.sqrt(hx * hx + hy * hy + hz * hz)
    hx, hy, hz = hx * hn, hy * hn, hz * hn
    ndl = np.clip(nx * lx + ny * ly + nz * lz, 0, 1)
    ndh = np.clip(nx * hx + ny * hy + nz * hz, 1e-4, 1)
    rough = layers.rough
    exponent = 4.0 + 400.0 * (1.0 - rough) ** 2 * (1.0 - 0.7 * light.size)
    log_ndh = np.log(ndh)
    spec_iso = np.exp(exponent * log_ndh) * (0.1 + exponent / 120.0)
    # Kajiya-Kay for brushed metal: tangent made orthogonal to the normal.
    tx, ty = np.cos(layers.tangent), np.sin(layers.tangent)
    tdn = tx * nx + ty * ny
    tx, ty, tz = tx - tdn * nx, ty - tdn * ny, -tdn * nz
    tn = 1.0 / np.sqrt(tx * tx + ty * ty + tz * tz + 1e-6)
    tdh = (tx * hx + ty * hy + tz * hz) * tn
    spec_kk = np.exp(0.5 * (exponent * 0.35) * np.log(np.clip(1.0 - tdh * tdh, 1e-4, 1))) * 0.9
    spec_metal = (1 - layers.aniso) * spec_iso + layers.aniso * spec_kk
    # Studio environment seen in the mirror direction: bright above, darker towards the horizon.
    rz = 2 * nz * nz - 1.0
    env = light.ambient * (0.35 + 0.65 * np.clip(rz, 0, 1)) + 0.12 * np.clip(0.5 - 0.5 * ny, 0, 1)
    # Mirror reflection of the key light seen as an area source (soft box, lamp, tube).
    rdl = 2 * nz * (nx * lx + ny * ly + nz * lz) - lz
    width = 0.015 + 0.12 * light.size
    strength = np.float32(0.25 + 0.6 * (1 - light.size))
    glint = np.exp((np.minimum(rdl, 1.0) - 1.0) * np.float32(1.0 / width)) * strength
    albedo_lin = layers.albedo * layers.albedo  # gamma 2 (fast, close to sRGB)
    diffuse = light.ambient * (0.55 + 0.45 * nz) + ndl
    fresnel = 0.04 + 0.5 * (1 - nz) ** 5
    coat = layers.gloss * (spec_iso * ndl + fresnel * env + glint)
    dielectric = albedo_lin * diffuse[..., None] + coat[..., None]
    shine = env + spec_metal * np.clip(ndl * 4, 0, 1) + 0.15 * ndl + glint * (1 - layers.rough)
    metal = albedo_lin * shine[..., None]
    m = layers.metal[..., None]
    return (dielectric * (1 - m) + metal * m) * light.colour


def shade_background(albedo: np.ndarray, light: Light, shadow: np.ndarray) -> np.ndarray:
    """Linear radiance of the (flat, matte) background, darkened by the shadow map."""
    level = light.ambient * 0.9 + float(light.direction[2])
    return albedo * albedo * (level * (1 - shadow))[..., None] * light.colour
