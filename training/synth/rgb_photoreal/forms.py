"""Battery forms: how one battery looks (fixed per battery) and how it lies in each photo.

``cell`` batteries are cylindrical cells (18650, 21700, AA, AAA; single or a small group,
lying or upright), pouch cells or prismatic cells; ``module`` batteries are module cases or
packs of cylindrical cells in a holder. :data:`FORMS` lists each battery type's forms with
their shares.
"""

from __future__ import annotations

import numpy as np

from training.synth.rgb_photoreal.layers import Layers
from training.synth.rgb_photoreal.objects import (
    ALUMINIUM,
    COPPER,
    NICKEL,
    cylinder_side,
    cylinder_top,
    map_texture,
    slab,
)
from training.synth.rgb_photoreal.stations import Station
from training.synth.rgb_photoreal.wraps import cylinder_wrap, sticker

# name: (length / diameter, nub radius, nub height, chemistry, share of the frame's side)
CYLINDERS = {
    "18650": (65 / 18, 0.36, 0.08, "li-ion", 0.72),
    "21700": (70 / 21, 0.36, 0.08, "li-ion", 0.76),
    "AA": (50.5 / 14.5, 0.38, 0.16, "alkaline", 0.66),
    "AAA": (44.5 / 10.5, 0.36, 0.16, "alkaline", 0.62),
}
WASHERS = np.array(
    [[0.92, 0.92, 0.88], [0.15, 0.45, 0.25], [0.08, 0.08, 0.08], [0.75, 0.15, 0.12]], np.float32
)


def _pick(rng: np.random.Generator, options: np.ndarray) -> np.ndarray:
    return options[int(rng.integers(len(options)))]


class CylinderCell:
    """One to three (lying) or one to seven (upright) identical cylindrical cells."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.form = ("18650", "21700", "AA", "AAA")[int(rng.choice(4, p=[0.4, 0.2, 0.25, 0.15]))]
        self.aspect, nub_r, nub_h, chem, self.frame = CYLINDERS[self.form]
        self.nub = (nub_r, nub_h)
        self.length = size * self.frame * rng.uniform(0.92, 1.05)
        self.radius = self.length / self.aspect / 2
        around = max(32, int(2 * np.pi * self.radius * 1.5))
        self.wrap = cylinder_wrap(rng, around, max(32, int(self.length * 1.5)), self.form, chem)
        self.sleeve = self.wrap.albedo[:, int(self.wrap.albedo.shape[1] * 0.02)].mean(0)
        self.washer = _pick(rng, WASHERS)
        self.vents = int(rng.integers(3, 7))

    def draw(self, layers: Layers, rng: np.random.Generator, station: Station, scale: float) -> None:
        """Place the cell(s) of this photo."""
        size = layers.height.shape[0]
        c = np.array([size / 2, size / 2]) + rng.normal(0, 0.03 * size, 2)
        if rng.random() < station.upright_share:
            n = int(rng.choice([1, 1, 2, 3, 4, 7])) if rng.random() < station.group_share * 2 else 1
            radius = size * (0.34 if n == 1 else 0.36 / (1 + 0.55 * np.sqrt(n))) * scale
            positive = rng.random() < 0.7
            spin = rng.uniform(0, 2 * np.pi)
            offsets = (
                [(0.0, 0.0)]
                if n == 1
                else [(np.cos(a), np.sin(a)) for a in np.arange(n) * 2 * np.pi / min(n, 6)]
            )
            if n == 7:
                offsets = [(0.0, 0.0)] + [(np.cos(a), np.sin(a)) for a in np.arange(6) * np.pi / 3]
            ring = 2.04 * radius if n == 7 else 1.02 * radius / np.sin(np.pi / max(n, 2))  # touching
            for dx, dy in offsets:
                cylinder_top(
                    layers,
                    (c[0] + ring * dx * (n > 1), c[1] + ring * dy * (n > 1)),
                    radius,
                    self.sleeve,
                    self.washer,
                    positive,
                    self.vents,
                    spin + rng.uniform(-0.3, 0.3),
                )
            return
        n = int(rng.choice([2, 3])) if rng.random() < station.group_share else 1
        angle = rng.uniform(0, 2 * np.pi)
        length, radius = self.length * scale, self.radius * scale
        if n > 1:
            length, radius = length * 0.85, radius * 0.85
        across = np.array([-np.sin(angle), np.cos(angle)])
        for k in range(n):
            pos = c + across * (k - (n - 1) / 2) * 2.04 * radius
            flip = np.pi if (n > 1 and rng.random() < 0.3) else 0.0
            cylinder_side(
                layers,
                (pos[0], pos[1]),
                angle + flip,
                radius,
                length,
                self.wrap,
                rng.uniform(0, 2 * np.pi),
                self.nub,
            )


class PouchCell:
    """A laminated pouch with sealed flanges, two tabs and sometimes a label."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.length = size * rng.uniform(0.55, 0.72)
        self.width = self.length * rng.uniform(0.5, 0.8)
        self.coated = rng.random() < 0.45
        self.colour = _pick(
            rng,
            np.array(
                [[0.55, 0.58, 0.62], [0.12, 0.12, 0.14], [0.85, 0.55, 0.15], [0.2, 0.3, 0.55]], np.float32
            ),
        )
        self.label = (
            sticker(rng, int(self.width * 0.5), int(self.width * 0.35)) if rng.random() < 0.6 else None
        )
        self.crinkle = rng.normal(0, 1, (12, 12)).astype(np.float32)

    def draw(self, layers: Layers, rng: np.random.Generator, station: Station, scale: float) -> None:
        """Place the pouch of this photo."""
        import cv2

        size = layers.height.shape[0]
        L, W = self.length * scale, self.width * scale
        c = (size / 2 + rng.normal(0, 0.03 * size), size / 2 + rng.normal(0, 0.03 * size))
        angle = rng.uniform(0, 2 * np.pi)
        flange = 0.08 * W
        layers, obj, inner, u, v = slab(layers, c, angle, L, W, 0.03 * W, 0.3 * W, 0.09 * W, margin=0.13 * L)
        seal = obj & (inner < flange)
        crinkle = cv2.resize(self.crinkle, (size, size), interpolation=cv2.INTER_CUBIC)
        y0, x0 = layers.origin
        crinkle = crinkle[y0 : y0 + obj.shape[0], x0 : x0 + obj.shape[1]]
        layers.height[seal] = 0.6 + 0.5 * crinkle[seal]
        layers.height[obj & ~seal] += np.float32(0.6)
        foil = np.float32([0.80, 0.80, 0.78])
        if self.coated:
            layers.paint(
                obj, albedo=self.colour, metal=0.0, gloss=0.4, rough=0.35, under_albedo=foil, under_metal=1.0
            )
        else:
            layers.paint(
                obj,
                albedo=foil,
                metal=0.9,
                gloss=0.0,
                rough=0.5,
                aniso=0.2,
                tangent=float(angle),
                under_albedo=foil * 0.9,
                under_metal=0.0,
            )
        for side, colour in ((-1, ALUMINIUM), (1, NICKEL)):
            tab = (np.abs(v - side * W / 4) < W * 0.1) & (u > L / 2 - flange) & (u < L / 2 + 0.12 * L)
            layers.paint(
                tab,
                height=np.float32(1.0),
                albedo=colour,
                metal=1.0,
                gloss=0.0,
                rough=0.25,
                aniso=0.6,
                tangent=float(angle),
                under_albedo=colour,
                under_metal=1.0,
            )
            tape = tab & (u > L / 2 - flange) & (u < L / 2 + 0.02 * L)
            layers.paint(tape, albedo=np.float32([0.9, 0.75, 0.2]), metal=0.0, gloss=0.3, rough=0.5)
            layers.sil |= tab
            layers.terminal |= tab
        if self.label is not None:
            vals, inside = map_texture(self.label, u, v, -L * 0.3, -W * 0.2)
            inside &= obj & ~seal
            layers.paint(inside, albedo=vals, metal=0.0, gloss=0.2, rough=0.7)


class PrismaticCell:
    """A prismatic can: broad face with film and label, or the top face with terminals and vent."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.length = size * rng.uniform(0.6, 0.75)
        self.width = self.length * rng.uniform(0.45, 0.7)
        self.film = _pick(
            rng, np.array([[0.12, 0.32, 0.72], [0.08, 0.08, 0.1], [0.75, 0.76, 0.78]], np.float32)
        )
        self.bare = rng.random() < 0.3
        self.label = sticker(rng, int(self.width * 0.6), int(self.width * 0.35))
        self.top_share = 0.35

    def draw(self, layers: Layers, rng: np.random.Generator, station: Station, scale: float) -> None:
        """Place the can of this photo (broad face or top face)."""
        size = layers.height.shape[0]
        c = (size / 2 + rng.normal(0, 0.03 * size), size / 2 + rng.normal(0, 0.03 * size))
        angle = rng.uniform(0, 2 * np.pi)
        L = self.length * scale
        if rng.random() < self.top_share:  # top face: terminals and the safety vent
            W = L * 0.22
            layers, obj, inner, u, v = slab(layers, c, angle, L, W, 0.1 * W, 0.2 * W, 0.2 * W)
            layers.paint(
                obj,
                albedo=ALUMINIUM,
                metal=1.0,
                rough=0.35,
                aniso=0.7,
                tangent=float(angle),
                under_albedo=ALUMINIUM,
                under_metal=1.0,
            )
            for side, colour in ((-1, ALUMINIUM * 0.95), (1, COPPER)):
                pad = (np.abs(u - side * L * 0.33) < W * 0.32) & (np.abs(v) < W * 0.32)
                layers.paint(
                    pad,
                    height=layers.height + W * 0.12,
                    albedo=colour,
                    metal=1.0,
                    rough=0.25,
                    aniso=0.0,
                    under_albedo=colour,
                )
                layers.terminal |= pad
            vent = (u / (W * 0.45)) ** 2 + (v / (W * 0.25)) ** 2 < 1
            layers.paint(
                vent,
                height=layers.height - W * 0.05,
                albedo=np.float32([0.55, 0.56, 0.58]),
                rough=0.6,
                aniso=0.0,
            )
            groove = vent & (np.abs(u) < 0.6) | vent & (np.abs(v) < 0.6)
            layers.paint(groove, albedo=np.float32([0.2, 0.2, 0.2]))
            layers.terminal |= vent
            return
        W = self.width * scale
        layers, obj, inner, u, v = slab(layers, c, angle, L, W, 0.04 * W, 0.08 * W, 0.1 * W)
        can = ALUMINIUM
        if self.bare:
            layers.paint(
                obj,
                albedo=can,
                metal=1.0,
                rough=0.3,
                aniso=0.8,
                tangent=float(angle),
                under_albedo=can,
                under_metal=1.0,
            )
        else:
            layers.paint(
                obj,
                albedo=self.film,
                metal=0.0,
                gloss=0.6,
                rough=0.2,
                under_albedo=can,
                under_metal=1.0,
                tangent=float(angle),
            )
        vals, inside = map_texture(self.label, u, v, -L * 0.35, -W * 0.25)
        layers.paint(inside & obj, albedo=vals, metal=0.0, gloss=0.2, rough=0.7)


class ModuleCase:
    """A module case seen from above: lid, busbars, terminal posts, screws, vents and label."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.length = size * rng.uniform(0.62, 0.8)
        self.width = self.length * rng.uniform(0.5, 0.75)
        self.lid = _pick(
            rng,
            np.array(
                [
                    [0.12, 0.12, 0.13],
                    [0.55, 0.56, 0.58],
                    [0.15, 0.25, 0.45],
                    [0.80, 0.80, 0.78],
                    [0.70, 0.71, 0.72],
                ],
                np.float32,
            ),
        )
        self.painted_metal = rng.random() < 0.35
        self.n_bars = int(rng.integers(2, 6))
        self.bar = COPPER if rng.random() < 0.3 else NICKEL
        self.label = sticker(rng, int(self.width * 0.55), int(self.width * 0.3))

    def draw(self, layers: Layers, rng: np.random.Generator, station: Station, scale: float) -> None:
        """Place the module of this photo."""
        size = layers.height.shape[0]
        c = (size / 2 + rng.normal(0, 0.03 * size), size / 2 + rng.normal(0, 0.03 * size))
        angle = rng.uniform(-0.2, 0.2) + (np.pi / 2 if rng.random() < 0.5 else 0.0)
        L, W = self.length * scale, self.width * scale
        layers, obj, inner, u, v = slab(layers, c, angle, L, W, 0.04 * W, 0.05 * W, 0.06 * W)
        under = ALUMINIUM if self.painted_metal else self.lid * 0.7
        layers.paint(
            obj,
            albedo=self.lid,
            metal=0.0,
            gloss=0.35,
            rough=0.45,
            under_albedo=under,
            under_metal=1.0 if self.painted_metal else 0.0,
            tangent=float(angle),
        )
        pitch = L * 0.8 / self.n_bars
        for k in range(self.n_bars):
            uk = -L * 0.4 + (k + 0.5) * pitch
            bar = (np.abs(u - uk) < pitch * 0.22) & (np.abs(v) < W * 0.3)
            layers.paint(
                bar,
                height=layers.height + 1.5,
                albedo=self.bar,
                metal=1.0,
                rough=0.3,
                aniso=0.5,
                gloss=0.0,
                under_albedo=self.bar,
                under_metal=1.0,
            )
            welds = bar & (np.cos(v / (W * 0.03)) > 0.93) & (np.abs(u - uk) < pitch * 0.08)
            layers.paint(welds, albedo=self.bar * 0.55, rough=0.8)
            layers.terminal |= bar
        for side, cap in ((-1, np.float32([0.75, 0.1, 0.08])), (1, np.float32([0.08, 0.08, 0.08]))):
            post = (u - side * L * 0.42) ** 2 + (v + W * 0.36) ** 2 < (W * 0.07) ** 2
            layers.paint(post, height=layers.height + 3.0, albedo=cap, metal=0.0, gloss=0.7, rough=0.2)
            layers.terminal |= post
        for su in (-1, 1):
            for sv in (-1, 1):
                screw = (u - su * (L / 2 - W * 0.06)) ** 2 + (v - sv * (W / 2 - W * 0.06)) ** 2 < (
                    W * 0.025
                ) ** 2
                layers.paint(screw, albedo=NICKEL, metal=1.0, rough=0.3, aniso=0.0, under_albedo=NICKEL)
        slots = (np.abs(v - W * 0.38) < W * 0.02) & (np.abs(u) < L * 0.15) & (np.cos(u / (W * 0.02)) > 0.2)
        layers.paint(
            slots, albedo=np.float32([0.03, 0.03, 0.03]), gloss=0.0, rough=1.0, height=layers.height - 1.0
        )
        layers.terminal |= slots
        vals, inside = map_texture(self.label, u, v, L * 0.05, W * 0.0)
        layers.paint(inside & obj, albedo=vals, metal=0.0, gloss=0.2, rough=0.7)


class CylinderPack:
    """Upright cylindrical cells in a plastic holder joined by nickel strips (top view)."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.rows, self.cols = int(rng.integers(2, 4)), int(rng.integers(3, 6))
        self.holder = _pick(
            rng, np.array([[0.1, 0.1, 0.1], [0.3, 0.3, 0.32], [0.85, 0.85, 0.82]], np.float32)
        )
        self.sleeve = _pick(
            rng,
            np.array(
                [[0.1, 0.25, 0.6], [0.12, 0.45, 0.22], [0.85, 0.45, 0.6], [0.45, 0.15, 0.5]], np.float32
            ),
        )
        self.washer = _pick(rng, WASHERS)

    def draw(self, layers: Layers, rng: np.random.Generator, station: Station, scale: float) -> None:
        """Place the pack of this photo."""
        size = layers.height.shape[0]
        c = np.array([size / 2, size / 2]) + rng.normal(0, 0.03 * size, 2)
        radius = size * 0.78 * scale / (2 * self.cols + 1)
        L, W = (2 * self.cols + 0.8) * radius, (2 * self.rows + 0.8) * radius
        angle = rng.uniform(-0.15, 0.15)
        part, obj, inner, u, v = slab(layers, (c[0], c[1]), angle, L, W, radius * 0.4, radius * 0.2, 2.0)
        part.paint(
            obj,
            albedo=self.holder,
            metal=0.0,
            gloss=0.3,
            rough=0.5,
            under_albedo=self.holder * 0.6,
            under_metal=0.0,
        )
        ca, sa = np.cos(angle), np.sin(angle)
        for i in range(self.rows):
            for j in range(self.cols):
                lu, lv = (j - (self.cols - 1) / 2) * 2 * radius, (i - (self.rows - 1) / 2) * 2 * radius
                x, y = c[0] + lu * ca - lv * sa, c[1] + lu * sa + lv * ca
                cylinder_top(
                    layers,
                    (x, y),
                    radius * 0.95,
                    self.sleeve,
                    self.washer,
                    (i + j) % 2 == 0,
                    4,
                    rng.uniform(0, 2 * np.pi),
                )
        for i in range(self.rows):
            lv = (i - (self.rows - 1) / 2) * 2 * radius
            strip = (np.abs(v - lv) < radius * 0.28) & (np.abs(u) < L / 2 - radius * 0.3)
            part.paint(
                strip,
                height=part.height + 1.0,
                albedo=NICKEL,
                metal=1.0,
                rough=0.25,
                aniso=0.6,
                tangent=float(angle),
                under_albedo=NICKEL,
                under_metal=1.0,
                gloss=0.0,
            )
            part.terminal |= strip


FORMS: dict[str, tuple[tuple[type, float], ...]] = {
    "cell": ((CylinderCell, 0.6), (PouchCell, 0.2), (PrismaticCell, 0.2)),
    "module": ((ModuleCase, 0.6), (CylinderPack, 0.4)),
}
