"""Raster phantoms with partial volume: material coverage painted into basis images.

A :class:`Canvas` is one slice of one battery on the output grid. Shapes are described by signed
distance functions in millimetres in the object's own frame (the frame is rotated, zoomed and
shifted in the field of view); a pixel's coverage is ``clip(0.5 - sdf / pixel, 0, 1)``, the exact
area fraction for a straight edge, so edges carry partial volume without supersampling. Layers
thinner than a pixel (foils, separators, coatings) are averaged analytically over the pixel
footprint by :func:`layer_lut`.

Painting material ``m`` with coverage ``c`` replaces that share of the pixel:
``basis = basis (1 - c) + C_m c``; region maps (``electrode``, ``resin``) and the occupied
fraction follow the same rule, so a defect stage knows what lies under each pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from training.synth.physics.scanner import BASIS


@dataclass
class Frame:
    """Where the object lies in the field of view.

    Attributes:
        n: Image side in pixels.
        px: Pixel side in mm.
        angle: Rotation of the object in the image (radians).
        centre: Object origin in the image, in pixels ``(x, y)``.
    """

    n: int
    px: float
    angle: float
    centre: tuple[float, float]

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        """Object-frame coordinates ``(X, Y)`` in mm of every pixel centre."""
        yy, xx = np.mgrid[: self.n, : self.n].astype(np.float32)
        dx, dy = xx - np.float32(self.centre[0]), yy - np.float32(self.centre[1])
        c, s = np.float32(np.cos(self.angle)), np.float32(np.sin(self.angle))
        px = np.float32(self.px)
        return (c * dx + s * dy) * px, (-s * dx + c * dy) * px

    def to_pixel(self, x: float, y: float) -> tuple[float, float]:
        """Image position (pixels) of object point ``(x, y)`` in mm."""
        c, s = np.cos(self.angle), np.sin(self.angle)
        return (self.centre[0] + (c * x - s * y) / self.px, self.centre[1] + (s * x + c * y) / self.px)


@dataclass
class Canvas:
    """Basis images, occupied fraction and region fractions of one slice.

    Attributes:
        frame: Placement of the object.
        coef: Basis coefficients of every material (from :class:`~.scanner.Scanner`).
        X: Object-frame x of every pixel (mm).
        Y: Object-frame y of every pixel (mm).
    """

    frame: Frame
    coef: dict[str, np.ndarray]
    X: np.ndarray
    Y: np.ndarray
    basis: np.ndarray = field(init=False)
    occupied: np.ndarray = field(init=False)
    regions: dict[str, np.ndarray] = field(default_factory=dict)
    metal: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.frame.n
        self.basis = np.zeros((n, n, BASIS), np.float32)
        self.basis[:] = self.coef["air"]
        self.occupied = np.zeros((n, n), np.float32)

    def coverage(self, sdf: np.ndarray) -> np.ndarray:
        """Pixel area fraction inside a shape given its signed distance (mm, negative inside)."""
        return np.clip(np.float32(0.5) - sdf / np.float32(self.frame.px), 0.0, 1.0)

    def strip(self, dist: np.ndarray, width: float) -> np.ndarray:
        """Area fraction of a strip ``|dist| <= width / 2`` (mm) over a pixel, exact for thin strips.

        Unlike :meth:`coverage`, a strip thinner than a pixel covers ``width / pixel`` of it.
        """
        px = np.float32(self.frame.px)
        d = np.abs(dist)
        half = np.float32(width / 2)
        return np.clip((np.minimum(d + px / 2, half) - np.maximum(d - px / 2, -half)) / px, 0.0, 1.0)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Coverage of the box ``[x0, x1] x [y0, y1]`` (mm, object frame).

        Only the pixels around the box's bounding rectangle in the image are computed.
        """
        n, fr = self.frame.n, self.frame
        corners = np.array([fr.to_pixel(x, y) for x in (x0, x1) for y in (y0, y1)])
        c0, r0 = np.floor(corners.min(0)).astype(int) - 2
        c1, r1 = np.ceil(corners.max(0)).astype(int) + 3
        out = np.zeros((n, n), np.float32)
        r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, n), min(c1, n)
        if r1 <= r0 or c1 <= c0:
            return out
        win = (slice(r0, r1), slice(c0, c1))
        out[win] = self.strip(self.X[win] - np.float32((x0 + x1) / 2), abs(x1 - x0)) * self.strip(
            self.Y[win] - np.float32((y0 + y1) / 2), abs(y1 - y0)
        )
        return out

    def ring(self, r: np.ndarray, r0: float, r1: float) -> np.ndarray:
        """Coverage of the annulus ``r0 <= r <= r1`` given the radius map ``r`` (mm)."""
        return self.strip(r - np.float32((r0 + r1) / 2), r1 - r0)

    def paint(self, material: str | np.ndarray, cov: np.ndarray, region: str | None = None) -> None:
        """Fill the share ``cov`` of every pixel with ``material``.

        Args:
            material: Material name, or ``[n, n, 3]`` basis values of a layered mixture.
            cov: Coverage in ``[0, 1]``.
            region: Region that the painted material belongs to (``None``: none).
        """
        rows, cols = np.flatnonzero(cov.any(1)), np.flatnonzero(cov.any(0))
        if not len(rows):
            return
        win = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        c = cov[win]
        value = self.coef[material] if isinstance(material, str) else material[win]
        basis = self.basis[win]
        basis += c[..., None] * (value - basis)
        occ = self.occupied[win]
        occ *= 1.0 - c
        if not (isinstance(material, str) and material == "air"):
            occ += c
        for name, frac in self.regions.items():
            if name != region:
                frac[win] *= 1.0 - c
        if region is not None:
            if region not in self.regions:
                self.regions[region] = np.zeros_like(cov)
            frac = self.regions[region][win]
            frac += c * (1.0 - frac)


# Signed distance functions (mm; negative inside).


def sdf_circle(X: np.ndarray, Y: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    """Disc of radius ``r`` around ``(cx, cy)``."""
    return np.sqrt((X - np.float32(cx)) ** 2 + (Y - np.float32(cy)) ** 2) - np.float32(r)


def sdf_box(
    X: np.ndarray, Y: np.ndarray, x0: float, y0: float, x1: float, y1: float, round_: float = 0.0
) -> np.ndarray:
    """Axis-aligned box ``[x0, x1] x [y0, y1]`` with corners rounded by ``round_``."""
    hx, hy = (x1 - x0) / 2 - round_, (y1 - y0) / 2 - round_
    qx = np.abs(X - np.float32((x0 + x1) / 2)) - np.float32(hx)
    qy = np.abs(Y - np.float32((y0 + y1) / 2)) - np.float32(hy)
    outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0) - np.float32(round_)


def sdf_ring(r: np.ndarray, r0: float, r1: float) -> np.ndarray:
    """Annulus ``r0 <= r <= r1`` given the radius map ``r``."""
    return np.maximum(np.float32(r0) - r, r - np.float32(r1))


def layer_lut(
    layers: list[tuple[str, float]], coef: dict[str, np.ndarray], width: float, size: int = 512
) -> np.ndarray:
    """Basis values of a periodic layer stack averaged over a pixel, as a lookup table.

    Args:
        layers: ``(material, thickness)`` of one period, in order (any unit).
        coef: Basis coefficients of the materials.
        width: Pixel footprint in periods (``pixel / period``).
        size: Table entries over one period.

    Returns:
        ``[size, 3]`` float32: entry ``i`` is the mean over ``[u - width/2, u + width/2]`` with
        ``u = i / size`` periods.
    """
    fine = 4096
    total = sum(t for _, t in layers)
    edges = np.cumsum([0.0] + [t / total for _, t in layers])
    s = (np.arange(fine) + 0.5) / fine
    profile = np.zeros((fine, BASIS))
    for (name, _), a, b in zip(layers, edges[:-1], edges[1:]):
        profile[(s >= a) & (s < b)] = coef[name]
    mean = profile.mean(0)
    cum = np.concatenate([np.zeros((1, BASIS)), np.cumsum(profile, 0) / fine])

    def integral(u: np.ndarray) -> np.ndarray:  # integral of the profile from 0 to u (periodic)
        k = np.floor(u)
        frac = u - k
        idx = frac * fine
        lo = np.floor(idx).astype(int)
        part = cum[lo] + (idx - lo)[:, None] * (cum[np.minimum(lo + 1, fine)] - cum[lo])
        return k[:, None] * mean + part

    w = max(width, 1e-3)
    u = np.arange(size) / size
    avg = (integral(u + w / 2 + 10) - integral(u - w / 2 + 10)) / w
    return avg.astype(np.float32)


def lookup(lut: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Values of a periodic :func:`layer_lut` at phase ``u`` (periods), nearest entry."""
    size = lut.shape[0]
    idx = (u * np.float32(size)).astype(np.int64) % size
    return lut[idx]
