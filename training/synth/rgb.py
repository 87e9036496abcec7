"""Synthetic RGB photos of cell cans and module cases, with external defects.

A :class:`RGBBattery` keeps its look (wrap colour, label, case material, busbars) and its
inspection station (background, light direction) across its photos; each photo varies pose,
lighting drift, colour temperature and sensor noise. Defects (pollution, scratch, damage) are
drawn on the battery only, from their own random stream, and their masks are pixel-exact.
"""

from __future__ import annotations

import cv2
import numpy as np

from training.synth.geometry import blob_mask, grid, put_text, smooth_noise

WRAP_COLOURS = (
    np.array(
        [
            [40, 60, 170],
            [30, 120, 40],
            [170, 60, 40],
            [20, 20, 25],
            [150, 40, 130],
            [30, 140, 200],
            [200, 170, 40],
        ],
        np.float32,
    )
    / 255.0
)  # RGB
# Inspection stations (background colour, texture strength): a battery is photographed at one.
STATIONS = (
    ((0.42, 0.43, 0.45), 0.03),  # grey conveyor belt
    ((0.16, 0.17, 0.18), 0.02),  # dark rubber mat
    ((0.82, 0.82, 0.80), 0.02),  # white tray
    ((0.25, 0.38, 0.55), 0.025),  # blue ESD mat
)
CASE_COLOURS = np.array([[170, 172, 176], [60, 62, 68], [40, 70, 120], [200, 200, 195]], np.float32) / 255.0


class RGBBattery:
    """One battery's external appearance.

    Args:
        battery_type: ``cell`` or ``module``.
        size: Image side in pixels.
        rng: Generator used to draw the battery's appearance.
    """

    def __init__(self, battery_type: str, size: int, rng: np.random.Generator) -> None:
        self.battery_type = battery_type
        self.size = size
        self.s = size / 256.0
        if battery_type == "cell":
            self.colour = WRAP_COLOURS[int(rng.integers(len(WRAP_COLOURS)))] * rng.uniform(0.8, 1.15)
            self.length = size * rng.uniform(0.62, 0.78)
            self.width = self.length / rng.uniform(1.8, 3.6)
            self.band = rng.uniform(0.25, 0.6)  # label band position along the can
        else:
            self.colour = CASE_COLOURS[int(rng.integers(len(CASE_COLOURS)))] * rng.uniform(0.85, 1.1)
            self.length = size * rng.uniform(0.62, 0.78)
            self.width = size * rng.uniform(0.38, 0.55)
            self.n_bars = int(rng.integers(2, 5))
        self.text = f"{int(rng.integers(1000, 9999))}-{'ABCDEFGH'[int(rng.integers(8))]}"
        self.station = int(rng.integers(len(STATIONS)))
        self.light_angle = rng.uniform(0, 2 * np.pi)

    def render(self, label: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Render one photo.

        Args:
            label: RGB label (``normal``, ``pollution``, ``scratch``, ``damage``).
            rng: Generator for this photo.

        Returns:
            ``(image, mask)``: uint8 RGB image ``[H, W, 3]`` and uint8 mask (0/255).
        """
        size = self.size
        defect_rng = np.random.default_rng(rng.integers(2**63))  # scene draws do not depend on the defect
        obj, colour, shade = self._object(rng)
        img = self._background(rng)
        # Soft shadow under the battery.
        shadow = cv2.GaussianBlur(
            np.roll(obj.astype(np.float32), (int(6 * self.s), int(5 * self.s)), (0, 1)), (0, 0), 5 * self.s
        )
        img *= (1 - 0.45 * shadow)[..., None]
        img[obj] = colour[obj] * shade[obj][:, None]
        mask = np.zeros((size, size), bool)
        if label != "normal":
            DEFECTS[label](img, mask, obj, defect_rng, self.s)
        # Station lighting (fixed direction, small drift), colour temperature, sensor noise.
        yy, xx = grid(size)
        angle = self.light_angle + rng.normal(0, 0.2)
        ramp = (np.cos(angle) * xx + np.sin(angle) * yy) / size - 0.5
        light = rng.uniform(0.92, 1.0) + rng.uniform(0.05, 0.12) * ramp
        img *= light[..., None]
        img *= np.array([rng.uniform(0.97, 1.03), 1.0, rng.uniform(0.97, 1.03)], np.float32)
        img += rng.normal(0, rng.uniform(0.004, 0.01), img.shape).astype(np.float32)
        img = np.clip(img, 0, 1)
        return (img * 255 + 0.5).astype(np.uint8), mask.astype(np.uint8) * 255

    def _background(self, rng: np.random.Generator) -> np.ndarray:
        colour, texture = STATIONS[self.station]
        base = np.asarray(colour, np.float32) * np.float32(rng.uniform(0.95, 1.05))
        noise = smooth_noise(rng, (self.size, self.size), int(rng.integers(4, 9)), channels=3)
        return base + np.float32(texture) * noise

    def _object(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Battery silhouette, its albedo image and its shading."""
        size, s = self.size, self.s
        centre = (size / 2 + rng.normal(0, 0.03 * size), size / 2 + rng.normal(0, 0.03 * size))
        angle = rng.uniform(-8, 8) + (90 if rng.random() < 0.5 else 0)
        L, W = self.length, self.width
        # Draw upright in a canvas, then rotate into place.
        canvas = np.zeros((size, size, 3), np.float32)
        sil = np.zeros((size, size), np.uint8)
        x0, x1 = int(size / 2 - W / 2), int(size / 2 + W / 2)
        y0, y1 = int(size / 2 - L / 2), int(size / 2 + L / 2)
        xs = (np.arange(size, dtype=np.float32) - size / 2) / max(W / 2, 1)
        if self.battery_type == "cell":
            cv2.rectangle(sil, (x0, y0), (x1, y1), 1, -1)
            canvas[y0:y1, x0:x1] = self.colour
            band0 = int(y0 + self.band * L)
            band1 = int(band0 + 0.22 * L)
            canvas[band0:band1, x0:x1] = 0.92  # printed label band
            put_text(canvas, self.text, (x0 + 2, int((band0 + band1) / 2)), 0.28 * s, (0.1, 0.1, 0.1))
            for k in range(3):  # stripes on the wrap
                yk = int(y0 + (0.08 + 0.05 * k) * L)
                canvas[yk : yk + max(1, int(1.5 * s)), x0:x1] = self.colour * 0.6
            cap = int(0.05 * L)
            canvas[y0 : y0 + cap, x0:x1] = 0.78  # metal cap
            canvas[y1 - cap // 2 : y1, x0:x1] = 0.7
            cv2.rectangle(
                canvas,
                (int(size / 2 - W / 5), y0 - int(3 * s)),
                (int(size / 2 + W / 5), y0),
                (0.8, 0.8, 0.8),
                -1,
            )
            cv2.rectangle(sil, (int(size / 2 - W / 5), y0 - int(3 * s)), (int(size / 2 + W / 5), y0), 1, -1)
            shade_x = 0.45 + 0.55 * np.sqrt(np.clip(1 - xs**2, 0, 1))  # cylinder
            shade_x += 0.35 * np.exp(-((xs - 0.35) ** 2) / 0.02)  # specular band
        else:
            r = int(6 * s)
            cv2.rectangle(sil, (x0, y0), (x1, y1), 1, -1)
            canvas[y0:y1, x0:x1] = self.colour
            cv2.rectangle(
                canvas, (x0, y0), (x1, y1), tuple(float(v) for v in self.colour * 1.25), max(1, int(3 * s))
            )
            bar_h = (y1 - y0) / (self.n_bars * 2 + 1)
            for k in range(self.n_bars):  # busbars (nickel-plated copper)
                by = int(y0 + (2 * k + 1) * bar_h)
                cv2.rectangle(
                    canvas, (x0 + r, by), (x1 - r, by + max(2, int(0.5 * bar_h))), (0.85, 0.6, 0.4), -1
                )
                for bx in np.linspace(x0 + 2 * r, x1 - 2 * r, 4):
                    cv2.circle(
                        canvas, (int(bx), by + int(0.25 * bar_h)), max(1, int(2 * s)), (0.8, 0.8, 0.82), -1
                    )
            lx0, ly0 = x0 + int(0.55 * (x1 - x0)), y1 - int(0.2 * L)
            cv2.rectangle(canvas, (lx0, ly0), (x1 - r, y1 - r), (0.93, 0.93, 0.9), -1)
            put_text(canvas, self.text, (lx0 + 2, ly0 + int(8 * s)), 0.25 * s, (0.1, 0.1, 0.1))
            for k in range(10):  # barcode
                cv2.line(
                    canvas,
                    (lx0 + 3 + 2 * k, y1 - r - 3),
                    (lx0 + 3 + 2 * k, y1 - r - int(8 * s)),
                    (0.1, 0.1, 0.1),
                    1 if k % 3 else 2,
                )
            shade_x = 0.8 + 0.2 * np.clip(1 - np.abs(xs) ** 8, 0, 1)
        shade = np.tile(shade_x.astype(np.float32), (size, 1))
        rot = cv2.getRotationMatrix2D((size / 2, size / 2), float(angle), 1.0)
        rot[:, 2] += (centre[0] - size / 2, centre[1] - size / 2)
        warp = dict(dsize=(size, size), flags=cv2.INTER_LINEAR)
        canvas = cv2.warpAffine(canvas, rot, **warp)
        shade = cv2.warpAffine(shade, rot, **warp)
        sil = cv2.warpAffine(sil, rot, dsize=(size, size), flags=cv2.INTER_NEAREST).astype(bool)
        return sil, canvas, shade


def _inside_point(obj: np.ndarray, rng: np.random.Generator, margin: int) -> tuple[int, int]:
    inner = cv2.erode(obj.astype(np.uint8), np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)).astype(bool)
    ys, xs = np.nonzero(inner if inner.any() else obj)
    k = int(rng.integers(len(xs)))
    return int(xs[k]), int(ys[k])


def pollution(img: np.ndarray, mask: np.ndarray, obj: np.ndarray, rng: np.random.Generator, s: float) -> None:
    """A stain: an irregular semi-transparent blob of dirt, grease or electrolyte residue."""
    cx, cy = _inside_point(obj, rng, int(8 * s))
    radii = (rng.uniform(9, 22) * s, rng.uniform(9, 22) * s)
    blob = blob_mask(rng, obj.shape, (cx, cy), radii, lobes=int(rng.integers(3, 7))) & obj
    alpha = cv2.GaussianBlur(blob.astype(np.float32), (0, 0), 1.5 * s) * np.float32(rng.uniform(0.65, 0.9))
    alpha[~obj] = 0
    colour = np.array(
        [[0.25, 0.17, 0.08], [0.05, 0.05, 0.05], [0.85, 0.85, 0.75], [0.35, 0.3, 0.1]][int(rng.integers(4))],
        np.float32,
    )
    img[:] = img * (1 - alpha[..., None]) + colour * alpha[..., None]
    mask |= alpha > 0.3


def scratch(img: np.ndarray, mask: np.ndarray, obj: np.ndarray, rng: np.random.Generator, s: float) -> None:
    """One to three thin scratches exposing bright metal or dark substrate."""
    layer = np.zeros(obj.shape, np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        x, y = _inside_point(obj, rng, int(4 * s))
        angle = rng.uniform(0, 2 * np.pi)
        pts = [(x, y)]
        for _ in range(int(rng.integers(4, 9))):
            angle += rng.normal(0, 0.25)
            step = rng.uniform(5, 14) * s
            x, y = x + step * np.cos(angle), y + step * np.sin(angle)
            pts.append((x, y))
        cv2.polylines(
            layer, [np.array(pts, np.int32)], False, 1, max(1, int(round(rng.uniform(1.5, 3.0) * s)))
        )
    line = layer.astype(bool) & obj
    value = np.float32(rng.uniform(0.85, 1.0) if rng.random() < 0.7 else rng.uniform(0.05, 0.2))
    img[line] = value
    mask |= line


def damage(img: np.ndarray, mask: np.ndarray, obj: np.ndarray, rng: np.random.Generator, s: float) -> None:
    """A dent or deformation: a shaded hollow with a dark crease and a bright rim."""
    cx, cy = _inside_point(obj, rng, int(10 * s))
    rx, ry = rng.uniform(10, 22) * s, rng.uniform(8, 18) * s
    dent = blob_mask(rng, obj.shape, (cx, cy), (rx, ry), lobes=3, roughness=0.2) & obj
    yy, xx = grid(obj.shape[0])
    a = rng.uniform(0, 2 * np.pi)
    ramp = ((xx - cx) * np.cos(a) + (yy - cy) * np.sin(a)) / max(rx, ry)
    shading = np.clip(1.0 - 0.8 * ramp, 0.25, 1.6)
    img[dent] *= shading[dent][:, None]
    crease = np.zeros(obj.shape, np.uint8)
    cv2.line(
        crease,
        (int(cx - rx * 0.6), int(cy)),
        (int(cx + rx * 0.6), int(cy + rng.normal(0, ry * 0.3))),
        1,
        max(1, int(2 * s)),
    )
    img[crease.astype(bool) & dent] *= 0.3
    mask |= dent


DEFECTS = {"pollution": pollution, "scratch": scratch, "damage": damage}
