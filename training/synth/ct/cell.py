"""Cylindrical cells: steel can, jelly roll around a mandrel, cap assembly with tabs."""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from training.synth.ct.base import AIR, CTBattery, Slice
from training.synth.ct.registry import register_battery
from training.synth.defects import CELL_POROSITY
from training.synth.geometry import grid, polar


@register_battery
class CellBattery(CTBattery):
    """A cylindrical cell: steel can, jelly roll around a mandrel, cap with tabs."""

    battery_type = "cell"
    porosity = CELL_POROSITY

    ASPECTS: ClassVar[dict[str, float]] = {"18650": 3.6, "21700": 3.3, "26650": 2.5, "4680": 1.75}

    def setup(self, rng: np.random.Generator) -> None:
        size, s = self.size, self.s
        self.form = str(rng.choice(list(self.ASPECTS), p=[0.35, 0.35, 0.15, 0.15]))
        self.cx = size / 2 + rng.normal(0, 0.01) * size
        self.cy = size / 2 + rng.normal(0, 0.01) * size
        self.R = size * rng.uniform(0.35, 0.41)
        self.wall_frac = rng.uniform(0.025, 0.04)
        self.mandrel_frac = rng.uniform(0.07, 0.12)
        self.hollow_pin = bool(rng.random() < 0.6)
        self.pitch = s * rng.uniform(2.8, 3.8)
        self.hi = rng.uniform(0.52, 0.66)
        self.lo = rng.uniform(0.2, 0.3)
        self.duty = rng.uniform(-0.2, 0.3)
        self.can = rng.uniform(0.82, 0.95)
        self.metal_angles = rng.uniform(-np.pi, np.pi, 2)
        self.H = size * rng.uniform(0.72, 0.80)
        self.D = min(self.H / self.ASPECTS[self.form], 0.78 * size)
        self.cap_h = self.H * rng.uniform(0.07, 0.10)
        self.tab_offset = rng.uniform(-0.4, 0.4)
        self._polar = polar(size, self.cx, self.cy)

    def structure(self, axis: str, pos: float, rng: np.random.Generator) -> Slice:
        return self._axial(pos) if axis == "y" else self._longitudinal(pos)

    def _axial(self, pos: float) -> Slice:
        r, theta = self._polar
        R, wall = self.R, max(2.0, self.R * self.wall_frac)
        rm, pin = self.R * self.mandrel_frac, max(1.5, 1.5 * self.s)
        spiral = r - theta * np.float32(self.pitch / (2 * np.pi))
        img = self.layers(spiral, self.pitch, pos * 4.0, self.lo, self.hi, self.duty)
        img += np.float32(0.03) * self.texture
        roll = (r > rm + pin + 1) & (r < R - wall - 1)
        img[~roll] = AIR
        img[(r >= R - wall) & (r <= R)] = self.can
        if self.hollow_pin:
            img[(r >= rm) & (r < rm + pin)] = self.can * 0.92
        # Electrode tabs welded across the windings (bright radial strips).
        for a, (r0, r1) in zip(self.metal_angles, ((rm + pin + 2, 0.45 * R), (0.6 * R, R - wall - 2))):
            p0 = (int(self.cx + r0 * np.cos(a)), int(self.cy + r0 * np.sin(a)))
            p1 = (int(self.cx + r1 * np.cos(a)), int(self.cy + r1 * np.sin(a)))
            cv2.line(img, p0, p1, 0.8, max(1, int(1.5 * self.s)))
        metal = [(self.cx + R * np.cos(a), self.cy + R * np.sin(a)) for a in self.metal_angles]
        return Slice(img, {"electrode": roll}, obj_radius=R, metal=metal, tangent_center=(self.cx, self.cy))

    def _longitudinal(self, pos: float) -> Slice:
        size = self.size
        yy, xx = grid(size)
        half = self.D / 2
        d = (pos - 0.5) * 0.8 * half  # cut-plane offset from the axis
        hw = float(np.sqrt(half**2 - d**2))
        rm = half * self.mandrel_frac * 2.0
        wall = max(2.0, half * self.wall_frac * 2.0)
        pin = max(1.5, 1.5 * self.s)
        top, bottom = self.cy - self.H / 2, self.cy + self.H / 2
        roll_top, roll_bot = top + self.cap_h + 3 * self.s, bottom - wall - 3 * self.s
        ax = np.abs(xx - np.float32(self.cx))
        u = np.sqrt(ax * ax + np.float32(d * d))
        img = self.layers(u, self.pitch, 0.0, self.lo, self.hi, self.duty)
        img += np.float32(0.03) * self.texture
        roll = (yy > roll_top) & (yy < roll_bot) & (u > rm + pin + 1) & (u < half - wall - 1)
        img[~roll] = AIR
        body = (yy >= top + self.cap_h * 0.4) & (yy <= bottom)
        img[body & (ax <= hw) & (ax >= hw - wall * half / max(hw, 1.0))] = self.can
        img[(yy >= bottom - wall) & (yy <= bottom) & (ax <= hw)] = self.can
        if abs(d) < rm + pin and self.hollow_pin:
            img[(yy > roll_top) & (yy < roll_bot) & (u >= rm) & (u < rm + pin)] = self.can * 0.92
        cx = self.cx
        # Insulator discs above and below the roll.
        cv2.rectangle(
            img,
            (int(cx - hw + wall), int(roll_top - 2 * self.s)),
            (int(cx + hw - wall), int(roll_top)),
            0.17,
            -1,
        )
        cv2.rectangle(
            img,
            (int(cx - hw + wall), int(roll_bot)),
            (int(cx + hw - wall), int(roll_bot + 2 * self.s)),
            0.17,
            -1,
        )
        # Cap assembly: crimped can rim, cap plate, terminal bump, vent disc, gasket.
        crimp = np.array(
            [
                [cx - hw, top + self.cap_h * 0.45],
                [cx - hw * 0.9, top + self.cap_h * 0.1],
                [cx - hw * 0.7, top],
            ],
            np.int32,
        )
        for sign in (-1, 1):
            pts = crimp.copy()
            pts[:, 0] = np.int32(cx + sign * (crimp[:, 0] - cx))
            cv2.polylines(img, [pts], False, self.can, max(1, int(wall)))
        cv2.rectangle(
            img,
            (int(cx - hw * 0.82), int(top + 1)),
            (int(cx + hw * 0.82), int(top + 1 + wall * 0.8)),
            self.can,
            -1,
        )
        cv2.rectangle(
            img, (int(cx - hw * 0.35), int(top - wall)), (int(cx + hw * 0.35), int(top + 1)), self.can, -1
        )
        vent_y = int(top + self.cap_h * 0.55)
        cv2.line(
            img,
            (int(cx - hw * 0.75), vent_y),
            (int(cx + hw * 0.75), vent_y),
            self.can * 0.8,
            max(1, int(self.s)),
        )
        cv2.line(
            img,
            (int(cx - hw * 0.8), int(top + self.cap_h * 0.3)),
            (int(cx - hw * 0.8), vent_y),
            0.25,
            max(1, int(2 * self.s)),
        )
        cv2.line(
            img,
            (int(cx + hw * 0.8), int(top + self.cap_h * 0.3)),
            (int(cx + hw * 0.8), vent_y),
            0.25,
            max(1, int(2 * self.s)),
        )
        # Tabs: positive to the cap, negative to the can bottom.
        tab_x = int(cx + self.tab_offset * hw)
        cv2.line(img, (tab_x, int(roll_top)), (int(cx), vent_y), 0.8, max(1, int(self.s)))
        cv2.line(
            img,
            (int(cx - self.tab_offset * hw), int(roll_bot)),
            (int(cx), int(bottom - wall)),
            0.8,
            max(1, int(self.s)),
        )
        metal = [(cx, top), (cx, bottom - wall)]
        return Slice(img, {"electrode": roll}, obj_radius=self.H / 2, metal=metal)
