"""CT acquisition artefacts: beam-hardening cupping, ring artefacts, metal streaks, blur, noise.

A :class:`ScanProfile` is drawn once per battery (one scan session, one scanner setting) and
applied to every slice of that battery, so artefacts are part of a battery's identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.geometry import grid


@dataclass(frozen=True)
class ScanProfile:
    """Per-battery acquisition settings.

    Attributes:
        gain: Multiplicative display gain.
        offset: Additive display offset.
        noise: Standard deviation of the additive noise (in [0, 1] intensity units).
        blur: Point-spread sigma in pixels.
        cupping: Relative darkening at the object centre (beam hardening).
        ring_radii: Radii of the ring artefacts (fractions of the image side).
        ring_amps: Amplitudes of the ring artefacts.
        streaks: Number of metal streaks per metal point.
        streak_amp: Amplitude of a metal streak.
    """

    gain: float
    offset: float
    noise: float
    blur: float
    cupping: float
    ring_radii: tuple[float, ...]
    ring_amps: tuple[float, ...]
    streaks: int
    streak_amp: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> ScanProfile:
        """Draw a plausible scan profile."""
        n_rings = int(rng.integers(2, 7))
        return cls(
            gain=float(rng.uniform(0.85, 1.05)),
            offset=float(rng.uniform(0.0, 0.05)),
            noise=float(rng.uniform(0.010, 0.026)),
            blur=float(rng.uniform(0.45, 0.8)),
            cupping=float(rng.uniform(0.02, 0.10)),
            ring_radii=tuple(float(v) for v in rng.uniform(0.02, 0.48, n_rings)),
            ring_amps=tuple(
                float(v) for v in rng.choice([-1, 1], n_rings) * rng.uniform(0.006, 0.022, n_rings)
            ),
            streaks=int(rng.integers(0, 4)),
            streak_amp=float(rng.uniform(0.01, 0.035)),
        )


def cupping(img: np.ndarray, radius: np.ndarray, obj_radius: float, strength: float) -> None:
    """Darken the object's centre relative to its rim, in place (beam-hardening cupping)."""
    falloff = np.clip(1.0 - (radius / np.float32(obj_radius)) ** 2, 0.0, 1.0)
    img *= 1.0 - np.float32(strength) * falloff


def rings(img: np.ndarray, radius: np.ndarray, profile: ScanProfile) -> None:
    """Add concentric ring artefacts around the rotation centre, in place (axial slices)."""
    size = img.shape[0]
    rho = np.arange(int(radius.max()) + 2, dtype=np.float32)
    prof = np.zeros_like(rho)
    for r, a in zip(profile.ring_radii, profile.ring_amps):
        prof += np.float32(a) * np.exp(-((rho - r * size) ** 2) / 0.8, dtype=np.float32)
    img += prof[radius.astype(np.int32)]


def bands(img: np.ndarray, profile: ScanProfile) -> None:
    """Add the longitudinal-reformat form of ring artefacts (faint vertical bands), in place."""
    size = img.shape[1]
    x = np.arange(size, dtype=np.float32)
    prof = np.zeros(size, np.float32)
    for r, a in zip(profile.ring_radii, profile.ring_amps):
        for side in (-1, 1):
            prof += np.float32(0.6 * a) * np.exp(
                -((x - (0.5 + side * r) * size) ** 2) / 0.8, dtype=np.float32
            )
    img += prof[None, :]


def streaks(
    img: np.ndarray, points: list[tuple[float, float]], profile: ScanProfile, rng: np.random.Generator
) -> None:
    """Add dark/bright streaks radiating from metal points, in place."""
    if not points or profile.streaks == 0:
        return
    size = img.shape[0]
    layer = np.zeros_like(img)
    for x, y in points:
        for _ in range(profile.streaks):
            angle = rng.uniform(0, np.pi)
            dx, dy = np.cos(angle) * size, np.sin(angle) * size
            value = float(rng.choice([-1.0, 1.0]) * profile.streak_amp)
            cv2.line(layer, (int(x - dx), int(y - dy)), (int(x + dx), int(y + dy)), value, 1, cv2.LINE_AA)
    img += cv2.GaussianBlur(layer, (0, 0), 0.8)


def finish(img: np.ndarray, profile: ScanProfile, rng: np.random.Generator) -> np.ndarray:
    """Apply the point-spread blur, quantum-like noise and display gain; clip to [0, 1]."""
    img = cv2.GaussianBlur(img, (0, 0), profile.blur)
    noise = rng.standard_normal(img.shape, dtype=np.float32)
    img += noise * np.float32(profile.noise) * (0.6 + img)
    img *= np.float32(profile.gain)
    img += np.float32(profile.offset)
    return np.clip(img, 0.0, 1.0, out=img)


def radius_from_center(size: int, cx: float, cy: float) -> np.ndarray:
    """Distance of every pixel from ``(cx, cy)``."""
    yy, xx = grid(size)
    return np.sqrt((xx - np.float32(cx)) ** 2 + (yy - np.float32(cy)) ** 2)
