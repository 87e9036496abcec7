"""Cylindrical cells (18650, 21700, 26650, 4680): steel can, jelly roll, mandrel, cap, tabs.

Dimensions are millimetres in the cell's own frame. Axial slices (axis ``y``) cut the roll
across: ``X, Y`` lie in the cross-section, origin on the cell axis. Longitudinal slices (axis
``x``) contain the cell axis: ``X`` across the cell, ``Y`` along it with the cap at
``Y = -height / 2``. The jelly roll is an Archimedean spiral whose period holds both
double-coated electrodes and two separators; its phase at radius ``r`` and angle ``theta`` is
``(r - r_in) / pitch - theta / 2 pi``, which also holds in a longitudinal cut (``r`` and
``theta`` of the cut point in the cross-section plane).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from training.synth.physics.phantom import Canvas, layer_lut, lookup

FORMS: dict[str, tuple[float, float]] = {  # diameter, height (mm)
    "18650": (18.4, 65.0),
    "21700": (21.2, 70.0),
    "26650": (26.5, 65.2),
    "4680": (46.0, 80.0),
}


@dataclass
class CellGeometry:
    """One cylindrical cell (every length in mm)."""

    materials: ClassVar[list[str]] = [
        "air", "steel", "aluminium", "nickel", "cu_foil", "al_foil", "anode", "cathode", "separator", "polymer",
    ]  # fmt: skip

    form: str
    radius: float
    height: float
    wall: float
    gap: float
    r_in: float
    pin: float  # wall of the hollow steel pin (0: no pin)
    layers: list[tuple[str, float]]
    pitch: float
    phase: float
    wobble: tuple[float, float, float, float]
    tabs: list[tuple[str, float, float, float]]  # material, radius fraction, angle, width
    cap: float
    bottom: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> CellGeometry:
        """Draw a cell."""
        form = str(rng.choice(list(FORMS), p=[0.35, 0.3, 0.1, 0.25]))
        d, h = FORMS[form]
        big = form in ("26650", "4680")
        um = 1e-3
        an, ca = rng.uniform(45, 85) * um, rng.uniform(40, 75) * um
        sep, cu, al = rng.uniform(10, 20) * um, rng.uniform(6, 12) * um, rng.uniform(12, 20) * um
        layers = [
            ("anode", an), ("cu_foil", cu), ("anode", an), ("separator", sep),
            ("cathode", ca), ("al_foil", al), ("cathode", ca), ("separator", sep),
        ]  # fmt: skip
        tabs = []
        if form != "4680":  # tabless 4680: the foils are welded to the end caps instead
            tabs.append(
                (
                    "nickel",
                    float(rng.uniform(0.1, 0.3)),
                    float(rng.uniform(-np.pi, np.pi)),
                    float(rng.uniform(3, 5)),
                )
            )
            tabs.append(
                (
                    "aluminium",
                    float(rng.uniform(0.5, 0.95)),
                    float(rng.uniform(-np.pi, np.pi)),
                    float(rng.uniform(3, 5)),
                )
            )
        return cls(
            form=form,
            radius=d / 2,
            height=h,
            wall=float(rng.uniform(0.35, 0.55) if big else rng.uniform(0.2, 0.3)),
            gap=float(rng.uniform(0.05, 0.3)),
            r_in=float(rng.uniform(2.0, 4.0) if big else rng.uniform(0.8, 1.8)),
            pin=float(rng.uniform(0.15, 0.3)) if rng.random() < 0.5 else 0.0,
            layers=layers,
            pitch=float(sum(t for _, t in layers)),
            phase=float(rng.uniform(0, 1)),
            wobble=(
                float(rng.uniform(0, 0.015)),
                float(rng.uniform(0, 2 * np.pi)),
                float(rng.uniform(0, 0.01)),
                float(rng.uniform(0, 2 * np.pi)),
            ),
            tabs=tabs,
            cap=float(rng.uniform(2.5, 4.0)),
            bottom=float(rng.uniform(0.3, 0.6)),
        )

    def extent(self, axis: str) -> float:
        """Size (mm) of the slice's object along its longest side."""
        return 2 * self.radius if axis == "y" else max(2 * self.radius, self.height + 0.6)

    def paint(self, cv: Canvas, axis: str, pos: float) -> dict:
        """Paint the slice at relative position ``pos`` into ``cv``; return context for defects."""
        lut = layer_lut(self.layers, cv.coef, cv.frame.px / self.pitch)
        roll_out = self.radius - self.wall - self.gap
        if axis == "y":
            r = np.sqrt(cv.X * cv.X + cv.Y * cv.Y)
            theta = np.arctan2(cv.Y, cv.X)
            self._roll(cv, lut, r, theta, roll_out, None)
            cv.paint("steel", cv.ring(r, self.radius - self.wall, self.radius))
            if self.pin:
                cv.paint("steel", cv.ring(r, self.r_in - self.pin - 0.05, self.r_in - 0.05))
            for mat, frac, ang, width in self.tabs:
                rt = self.r_in + frac * (roll_out - self.r_in)
                dang = np.angle(np.exp(1j * (theta - np.float32(ang)))).astype(np.float32)
                cv.paint(mat, cv.ring(r, rt - 0.05, rt + 0.05) * cv.strip(dang * rt, width))
            return {"centre": (0.0, 0.0)}
        return self._longitudinal(cv, lut, pos, roll_out)

    def _roll(
        self,
        cv: Canvas,
        lut: np.ndarray,
        r: np.ndarray,
        theta: np.ndarray,
        roll_out: float,
        ybox: tuple[float, float] | None,
    ) -> None:
        w1, p1, w2, p2 = self.wobble
        rr = r * (
            1
            + np.float32(w1) * np.cos(2 * theta + np.float32(p1))
            + np.float32(w2) * np.cos(3 * theta + np.float32(p2))
        )
        u = (
            (rr - np.float32(self.r_in)) / np.float32(self.pitch)
            - theta / np.float32(2 * np.pi)
            + np.float32(self.phase)
        )
        cov = cv.ring(r, self.r_in, roll_out)
        if ybox is not None:
            cov = cov * cv.strip(cv.Y - np.float32(sum(ybox) / 2), ybox[1] - ybox[0])
        cv.paint(lookup(lut, u), cov, region="electrode")

    def _longitudinal(self, cv: Canvas, lut: np.ndarray, pos: float, roll_out: float) -> dict:
        R, H, wall = self.radius, self.height, self.wall
        d = (pos - 0.5) * 0.9 * roll_out  # cut-plane offset from the axis
        r = np.sqrt(cv.X * cv.X + np.float32(d * d))
        theta = np.arctan2(np.full_like(cv.X, d), cv.X)
        top, bot = -H / 2, H / 2
        ins = 0.3
        roll_top, roll_bot = top + self.cap + ins + 0.3, bot - self.bottom - ins - 0.2
        self._roll(cv, lut, r, theta, roll_out, (roll_top, roll_bot))
        inner = roll_out
        # Insulator discs, can bottom and wall (with the crimp bead under the cap).
        cv.paint(
            "polymer", cv.box(-inner, roll_top - ins - 0.1, inner, roll_top - 0.1) * cv.strip(r, 2 * inner)
        )
        cv.paint(
            "polymer", cv.box(-inner, roll_bot + 0.1, inner, roll_bot + ins + 0.1) * cv.strip(r, 2 * inner)
        )
        bead = top + self.cap + 0.1
        cv.paint("steel", cv.ring(r, R - wall, R) * cv.box(-R, bead + 0.6, R, bot))
        cv.paint("steel", cv.ring(r, R - wall - 0.6, R - 0.6) * cv.box(-R, bead - 0.6, R, bead + 0.6))
        cv.paint("steel", cv.ring(r, R - wall, R) * cv.box(-R, top + 0.3, R, bead - 0.6))
        cv.paint("steel", cv.ring(r, R - wall - 0.9, R) * cv.box(-R, top, R, top + 0.35))  # crimped rim
        cv.paint("steel", cv.box(-R, bot - self.bottom, R, bot) * cv.strip(r, 2 * R))
        # Cap assembly: terminal cap with its bump, PTC/CID, aluminium vent disc, gasket.
        cv.paint("polymer", cv.ring(r, R - wall - 0.7, R - wall) * cv.box(-R, top + 0.2, R, bead))
        plate = R - wall - 0.6
        cv.paint("steel", cv.box(-plate, top + 0.55, plate, top + 0.9) * cv.strip(r, 2 * plate))
        cv.paint("steel", cv.box(-0.45 * R, top - 0.3, 0.45 * R, top + 0.55) * cv.strip(r, 2 * 0.45 * R))
        cv.paint("aluminium", cv.box(-plate, top + 1.3, plate, top + 1.55) * cv.strip(r, 2 * plate))
        cv.paint("aluminium", cv.box(-0.2 * R, top + 1.55, 0.2 * R, top + 1.9) * cv.strip(r, 2 * 0.2 * R))
        cv.paint(
            "steel", cv.box(-0.8 * plate, top + 2.1, 0.8 * plate, top + 2.3) * cv.strip(r, 2 * 0.8 * plate)
        )
        if self.pin:
            cv.paint(
                "steel",
                cv.ring(r, self.r_in - self.pin - 0.05, self.r_in - 0.05)
                * cv.box(-R, roll_top - 0.5, R, roll_bot),
            )
        for mat, frac, _, width in self.tabs[:1]:  # positive tab up to the cap
            x = self.r_in + frac * (roll_out - self.r_in)
            if abs(d) < width:
                cv.paint(mat, cv.box(x - 0.05, top + 2.3, x + 0.05, roll_top))
        return {"centre": None}
