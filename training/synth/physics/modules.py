"""Modules: pouch or prismatic cells stacked in an aluminium case, potted in resin.

Object frame (mm): ``X`` runs along the stack (cells side by side). In longitudinal slices
(axis ``x``) ``Y`` runs down the module: sense PCB and copper bus bars on top, cell tabs or
terminals, cells, thermal gap filler, cooling plate with coolant channels, case bottom; the
potting resin fills the case up to a fill line. In cross-sections (axis ``y``) ``Y`` runs along
the cells' depth: case walls, cells, resin between them (when the cut lies below the fill
line), foam compression pads between pouch cells.

Electrode layers stand parallel to the cells' large faces, so both slices cut them across;
at module scale a period (~0.3 mm) is usually below a pixel and partial volume averages it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from training.synth.physics.phantom import Canvas, layer_lut, lookup


@dataclass
class ModuleGeometry:
    """One module (every length in mm)."""

    materials: ClassVar[list[str]] = [
        "air", "aluminium", "copper", "cu_foil", "al_foil", "anode", "cathode", "separator",
        "polymer", "epoxy", "filled_epoxy", "fr4", "coolant", "foam",
    ]  # fmt: skip

    variant: str
    n_cells: int
    thick: float
    gap: float
    margin: float
    wall: float
    cell_h: float
    depth: float
    shell: float
    resin: str
    fill: float
    pads: bool
    cool: float
    channels: int
    tim: float
    tab_h: float
    bar_t: float
    pcb_gap: float
    lid: bool
    layers: list[tuple[str, float]]
    pitch: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> ModuleGeometry:
        """Draw a module."""
        prismatic = bool(rng.random() < 0.5)
        um = 1e-3
        an, ca = rng.uniform(50, 90) * um, rng.uniform(45, 80) * um
        sep = rng.uniform(12, 22) * um
        layers = [
            ("anode", an), ("cu_foil", rng.uniform(6, 12) * um), ("anode", an), ("separator", sep),
            ("cathode", ca), ("al_foil", rng.uniform(12, 20) * um), ("cathode", ca), ("separator", sep),
        ]  # fmt: skip
        return cls(
            variant="prismatic" if prismatic else "pouch",
            n_cells=int(rng.integers(3, 6) if prismatic else rng.integers(3, 8)),
            thick=float(rng.uniform(14, 28) if prismatic else rng.uniform(6, 12)),
            gap=float(rng.uniform(1.0, 4.0) if prismatic else rng.uniform(0.8, 3.0)),
            margin=float(rng.uniform(1.5, 6.0)),
            wall=float(rng.uniform(2.0, 4.5)),
            cell_h=float(rng.uniform(55, 100)),
            depth=float(rng.uniform(60, 140)),
            shell=float(rng.uniform(0.5, 1.0) if prismatic else rng.uniform(0.1, 0.2)),
            resin=str(rng.choice(["epoxy", "filled_epoxy"])),
            fill=float(1.0 if rng.random() < 0.25 else rng.uniform(0.3, 0.85)),
            pads=bool(not prismatic and rng.random() < 0.4),
            cool=float(rng.uniform(4, 9)),
            channels=int(rng.integers(2, 7)),
            tim=float(rng.uniform(0.5, 2.0)),
            tab_h=float(rng.uniform(3, 7)),
            bar_t=float(rng.uniform(1.5, 3.0)),
            pcb_gap=float(rng.uniform(1.0, 4.0)),
            lid=bool(rng.random() < 0.4),
            layers=layers,
            pitch=float(sum(t for _, t in layers)),
        )

    @property
    def width(self) -> float:
        """Outer width of the case along the stack."""
        return self.n_cells * self.thick + (self.n_cells - 1) * self.gap + 2 * (self.margin + self.wall)

    @property
    def full_height(self) -> float:
        """Outer height of the case (x slices)."""
        return (
            self.wall
            + self.cool
            + self.tim
            + self.cell_h
            + self.tab_h
            + self.bar_t
            + self.pcb_gap
            + 1.6
            + 2.0
            + self.wall
        )

    def extent(self, axis: str) -> float:
        """Size (mm) of the slice's object along its longest side."""
        if axis == "y":
            return max(self.width, self.depth + 2 * (self.margin + self.wall))
        return max(self.width, self.full_height)

    def cells_x(self) -> list[tuple[float, float]]:
        """``(x0, x1)`` of every cell."""
        x0 = -self.width / 2 + self.wall + self.margin
        step = self.thick + self.gap
        return [(x0 + k * step, x0 + k * step + self.thick) for k in range(self.n_cells)]

    def paint(self, cv: Canvas, axis: str, pos: float) -> dict:
        """Paint the slice at relative position ``pos`` into ``cv``; return context for defects."""
        lut = layer_lut(self.layers, cv.coef, cv.frame.px / self.pitch)
        return self._cross(cv, lut, pos) if axis == "y" else self._longitudinal(cv, lut)

    def _cell(self, cv: Canvas, lut: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> None:
        """One cell: shell (pouch film or aluminium can) around its electrode stack."""
        cv.paint("polymer" if self.variant == "pouch" else "aluminium", cv.box(x0, y0, x1, y1))
        if self.variant == "pouch":
            cv.paint("al_foil", cv.box(x0 + 0.05, y0 + 0.05, x1 - 0.05, y1 - 0.05))
        s = self.shell
        ix0, iy0, ix1, iy1 = x0 + s, y0 + s, x1 - s, y1 - s
        if self.variant == "prismatic":
            cv.paint("polymer", cv.box(ix0, iy0, ix1, iy1))
            ix0, iy0, ix1, iy1 = ix0 + 0.15, iy0 + 0.15, ix1 - 0.15, iy1 - 0.15
        xc = (ix0 + ix1) / 2
        if self.variant == "prismatic":  # flattened jelly roll, straight sides along Y
            half = max((iy1 - iy0) / 2 - (ix1 - ix0) / 2, 0.0)
            dy = np.maximum(np.abs(cv.Y - np.float32((iy0 + iy1) / 2)) - np.float32(half), 0)
            u = np.sqrt((cv.X - np.float32(xc)) ** 2 + dy * dy) / np.float32(self.pitch)
        else:
            u = (cv.X - np.float32(xc)) / np.float32(self.pitch)
        cv.paint(lookup(lut, u), cv.box(ix0, iy0, ix1, iy1), region="electrode")

    def _case_inside(self) -> tuple[float, float]:
        return -self.width / 2 + self.wall, self.width / 2 - self.wall

    def _cross(self, cv: Canvas, lut: np.ndarray, pos: float) -> dict:
        w2, d2 = self.width / 2, self.depth / 2 + self.margin + self.wall
        xi0, xi1 = self._case_inside()
        yi0, yi1 = -d2 + self.wall, d2 - self.wall
        cv.paint("aluminium", cv.box(-w2, -d2, w2, d2))
        potted = 0.08 + 0.84 * pos < self.fill
        cv.paint(
            self.resin if potted else "air", cv.box(xi0, yi0, xi1, yi1), region="resin" if potted else None
        )
        cells = self.cells_x()
        if self.pads:
            for (_, a), (b, _) in zip(cells[:-1], cells[1:]):
                cv.paint("foam", cv.box(a, -self.depth / 2, b, self.depth / 2))
        for x0, x1 in cells:
            self._cell(cv, lut, x0, -self.depth / 2, x1, self.depth / 2)
        gaps = [(a, b) for (_, a), (b, _) in zip(cells[:-1], cells[1:])]
        return {"box": (-w2, -d2, w2, d2), "potted": potted, "gaps": gaps, "inner": (xi0, yi0, xi1, yi1)}

    def _longitudinal(self, cv: Canvas, lut: np.ndarray) -> dict:
        w2, h2 = self.width / 2, self.full_height / 2
        xi0, xi1 = self._case_inside()
        bot = h2
        cool_top = bot - self.wall - self.cool
        cell_bot = cool_top - self.tim
        cell_top = cell_bot - self.cell_h
        bar_bot = cell_top - self.tab_h
        bar_top = bar_bot - self.bar_t
        pcb_bot = bar_top - self.pcb_gap
        fill_y = cell_bot - self.fill * self.cell_h
        # Case: bottom and walls (and lid), cooling plate with coolant channels, gap filler.
        cv.paint("aluminium", cv.box(-w2, bot - self.wall, w2, bot))
        cv.paint("aluminium", cv.box(-w2, -h2, xi0, bot))
        cv.paint("aluminium", cv.box(xi1, -h2, w2, bot))
        if self.lid:
            cv.paint("aluminium", cv.box(-w2, -h2, w2, -h2 + self.wall * 0.6))
        cv.paint("aluminium", cv.box(xi0, cool_top, xi1, bot - self.wall))
        ch_w = (xi1 - xi0) / (2 * self.channels + 1)
        for k in range(self.channels):
            cx0 = xi0 + (2 * k + 1) * ch_w
            cv.paint(
                "coolant",
                cv.box(cx0, cool_top + 0.25 * self.cool, cx0 + ch_w, bot - self.wall - 0.25 * self.cool),
            )
        cv.paint("filled_epoxy", cv.box(xi0, cell_bot, xi1, cool_top))
        cv.paint(self.resin, cv.box(xi0, fill_y, xi1, cell_bot), region="resin")
        cells = self.cells_x()
        if self.pads:
            for (_, a), (b, _) in zip(cells[:-1], cells[1:]):
                cv.paint("foam", cv.box(a, cell_top + 2, b, cell_bot - 2))
        for x0, x1 in cells:
            self._cell(cv, lut, x0, cell_top, x1, cell_bot)
            w = x1 - x0
            for k, tx in enumerate((x0 + 0.25 * w, x1 - 0.25 * w)):
                if self.variant == "pouch":  # thin tab foils out of the sealed edge
                    cv.paint("polymer", cv.box(tx - 0.3, cell_top - 0.4 * self.tab_h, tx + 0.3, cell_top))
                    cv.paint("copper" if k else "aluminium", cv.box(tx - 0.15, bar_bot, tx + 0.15, cell_top))
                else:  # terminal posts
                    cv.paint(
                        "copper" if k else "aluminium",
                        cv.box(tx - 0.12 * w, bar_bot, tx + 0.12 * w, cell_top),
                    )
        # Copper bus bars joining neighbouring cells, sense PCB above.
        xs = [x for x0, x1 in cells for x in (x0 + 0.25 * (x1 - x0), x1 - 0.25 * (x1 - x0))]
        for a, b in zip(xs[1::2][:-1], xs[2::2]):
            cv.paint("copper", cv.box(a - 1.5, bar_top, b + 1.5, bar_bot))
        cv.paint("copper", cv.box(xs[0] - 1.5, bar_top, xs[0] + 4, bar_bot))
        cv.paint("copper", cv.box(xs[-1] - 4, bar_top, xs[-1] + 1.5, bar_bot))
        p0, p1 = xi0 + 0.1 * (xi1 - xi0), xi1 - 0.1 * (xi1 - xi0)
        cv.paint("fr4", cv.box(p0, pcb_bot - 1.6, p1, pcb_bot))
        cv.paint("copper", cv.box(p0, pcb_bot - 1.6, p1, pcb_bot - 1.565))
        cv.paint("copper", cv.box(p0, pcb_bot - 0.035, p1, pcb_bot))
        gaps = [(a, b) for (_, a), (b, _) in zip(cells[:-1], cells[1:])]
        return {
            "fill_y": fill_y, "cell_top": cell_top, "bar_top": bar_top, "gaps": gaps,
            "inner": (xi0, xi1), "pcb": (p0, pcb_bot - 1.6, p1, pcb_bot),
        }  # fmt: skip
