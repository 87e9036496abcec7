"""Modules: aluminium housing, prismatic or pouch cells, resin potting, tabs and busbar."""

from __future__ import annotations

import cv2
import numpy as np

from training.synth.ct.base import AIR, CTBattery, Slice
from training.synth.ct.registry import register_battery
from training.synth.defects import MODULE_POROSITY, add_resin_blob
from training.synth.geometry import grid


@register_battery
class ModuleBattery(CTBattery):
    """A module: aluminium housing, prismatic or pouch cells, resin potting, tabs and busbar."""

    battery_type = "module"
    porosity = MODULE_POROSITY
    porosity_regions = ("electrode", "resin")

    def setup(self, rng: np.random.Generator) -> None:
        size, s = self.size, self.s
        self.variant = "prismatic" if rng.random() < 0.55 else "pouch"
        self.n_cells = int(rng.integers(3, 6) if self.variant == "prismatic" else rng.integers(4, 8))
        self.W = size * rng.uniform(0.74, 0.84)
        self.Hy = size * rng.uniform(0.50, 0.64)
        self.Hx = size * rng.uniform(0.62, 0.74)
        self.wall = max(2.0, s * rng.uniform(3.0, 5.0))
        self.gap = s * rng.uniform(4.0, 8.0)
        self.margin = s * rng.uniform(4.0, 9.0)
        self.house = rng.uniform(0.6, 0.75)
        self.resin = rng.uniform(0.31, 0.40)
        self.case = rng.uniform(0.62, 0.72) if self.variant == "prismatic" else rng.uniform(0.40, 0.48)
        self.case_t = max(1.0, (2.0 if self.variant == "prismatic" else 1.0) * s)
        self.pitch = s * rng.uniform(2.8, 3.8)
        self.hi = rng.uniform(0.52, 0.66)
        self.lo = rng.uniform(0.2, 0.3)
        self.duty = rng.uniform(-0.2, 0.3)
        self.fill = rng.uniform(0.25, 0.45)  # resin fill height as a share of cell height (x axis)
        self.busbar = rng.uniform(0.75, 0.9)
        self.cx = size / 2 + rng.normal(0, 0.01) * size
        self.cy = size / 2 + rng.normal(0, 0.01) * size
        inner = self.W - 2 * self.wall - 2 * self.margin - (self.n_cells - 1) * self.gap
        while self.n_cells > 2 and inner / self.n_cells < 10 * s + 6:  # keep cells resolvable
            self.n_cells -= 1
            inner += self.gap
        self.cell_w = inner / self.n_cells
        self._cache: dict[str, tuple] = {}

    def _cell_x(self) -> list[tuple[float, float]]:
        x0 = self.cx - self.W / 2 + self.wall + self.margin
        return [
            (x0 + k * (self.cell_w + self.gap), x0 + k * (self.cell_w + self.gap) + self.cell_w)
            for k in range(self.n_cells)
        ]

    def structure(self, axis: str, pos: float, rng: np.random.Generator) -> Slice:
        if axis not in self._cache:
            self._cache[axis] = self._static_y() if axis == "y" else self._static_x()
        base, dist, cells, regions, ctx = self._cache[axis]
        img = base.copy()
        lay = self.layers(dist, self.pitch, pos * 3.0, self.lo, self.hi, self.duty)
        img[cells] = lay[cells]
        img += np.float32(0.025) * self.texture
        return Slice(img, regions, obj_radius=0.5 * self.W, metal=ctx["metal"], context=ctx)

    def _static_y(self) -> tuple:
        size = self.size
        yy, xx = grid(size)
        x0, x1 = self.cx - self.W / 2, self.cx + self.W / 2
        y0, y1 = self.cy - self.Hy / 2, self.cy + self.Hy / 2
        base = np.full((size, size), AIR, np.float32)
        cv2.rectangle(base, (int(x0), int(y0)), (int(x1), int(y1)), self.house, -1)
        ix0, iy0, ix1, iy1 = x0 + self.wall, y0 + self.wall, x1 - self.wall, y1 - self.wall
        inside = (xx >= int(ix0)) & (xx <= int(ix1)) & (yy >= int(iy0)) & (yy <= int(iy1))
        base[inside] = self.resin
        dist = np.zeros((size, size), np.float32)
        cells = np.zeros((size, size), bool)
        cy0, cy1 = iy0 + self.margin, iy1 - self.margin
        for cx0, cx1 in self._cell_x():
            box = (xx >= cx0) & (xx <= cx1) & (yy >= cy0) & (yy <= cy1)
            base[box] = self.case
            inner = (
                (xx >= cx0 + self.case_t)
                & (xx <= cx1 - self.case_t)
                & (yy >= cy0 + self.case_t)
                & (yy <= cy1 - self.case_t)
            )
            mid = (cx0 + cx1) / 2
            if self.variant == "prismatic":  # flattened jelly roll: racetrack windings
                half_len = max(0.0, (cy1 - cy0) / 2 - (cx1 - cx0) / 2)
                dy = np.maximum(np.abs(yy - np.float32((cy0 + cy1) / 2)) - np.float32(half_len), 0)
                d = np.sqrt((xx - np.float32(mid)) ** 2 + dy * dy)
            else:  # stacked pouch: straight layers
                d = np.abs(xx - np.float32(mid))
            dist[inner] = d[inner]
            cells |= inner
        resin = inside & (base == np.float32(self.resin))  # potting left between and around cells
        outside = ~((xx >= int(x0)) & (xx <= int(x1)) & (yy >= int(y0)) & (yy <= int(y1)))
        ctx = {"box": (x0, y0, x1, y1), "outside": outside, "metal": [(x0, y0), (x1, y1)]}
        return base, dist, cells, {"electrode": cells, "resin": resin}, ctx

    def _static_x(self) -> tuple:
        size, s = self.size, self.s
        yy, xx = grid(size)
        x0, x1 = self.cx - self.W / 2, self.cx + self.W / 2
        top, bot = self.cy - self.Hx / 2, self.cy + self.Hx / 2
        base = np.full((size, size), AIR, np.float32)
        rim = top + 0.12 * self.Hx
        # Housing: bottom plate and side walls (open top).
        cv2.rectangle(base, (int(x0), int(bot - self.wall)), (int(x1), int(bot)), self.house, -1)
        cv2.rectangle(base, (int(x0), int(rim)), (int(x0 + self.wall), int(bot)), self.house, -1)
        cv2.rectangle(base, (int(x1 - self.wall), int(rim)), (int(x1), int(bot)), self.house, -1)
        cell_bot = bot - self.wall - self.margin * 0.6
        cell_top = top + 0.2 * self.Hx
        fill_y = cell_bot - self.fill * (cell_bot - cell_top)
        pot = (xx > x0 + self.wall) & (xx < x1 - self.wall) & (yy >= fill_y) & (yy < bot - self.wall)
        base[pot] = self.resin
        dist = np.zeros((size, size), np.float32)
        cells = np.zeros((size, size), bool)
        solid = np.zeros((size, size), bool)
        tab_h = 0.07 * self.Hx
        metal = []
        for cx0, cx1 in self._cell_x():
            box = (xx >= cx0) & (xx <= cx1) & (yy >= cell_top) & (yy <= cell_bot)
            base[box] = self.case
            solid |= box
            inner = (
                (xx >= cx0 + self.case_t)
                & (xx <= cx1 - self.case_t)
                & (yy >= cell_top + self.case_t)
                & (yy <= cell_bot - self.case_t)
            )
            dist[inner] = (yy - np.float32(cell_top))[inner]
            cells |= inner
            w = cx1 - cx0
            for tx in (cx0 + 0.22 * w, cx1 - 0.22 * w):
                cv2.rectangle(
                    base,
                    (int(tx - 0.08 * w), int(cell_top - tab_h)),
                    (int(tx + 0.08 * w), int(cell_top)),
                    0.8,
                    -1,
                )
                metal.append((tx, cell_top - tab_h))
        bar_y0 = int(cell_top - tab_h - 3 * s)
        cv2.rectangle(
            base,
            (int(self._cell_x()[0][0]), bar_y0),
            (int(self._cell_x()[-1][1]), int(cell_top - tab_h)),
            self.busbar,
            -1,
        )
        resin = pot & ~solid
        air_above = (base == np.float32(AIR)) & (yy < fill_y) & (yy > top)
        ctx = {
            "fill_y": fill_y,
            "cell_top": cell_top,
            "bar_y": bar_y0,
            "air_above": air_above,
            "gaps": [(a[1], b[0]) for a, b in zip(self._cell_x()[:-1], self._cell_x()[1:])],
            "walls": (x0 + self.wall, x1 - self.wall),
            "metal": metal[:: max(1, len(metal) // 3)],
        }
        return base, dist, cells, {"electrode": cells, "resin": resin}, ctx

    def overflow(self, sl: Slice, mask: np.ndarray, axis: str, rng: np.random.Generator) -> None:
        ctx, s, size = sl.context, self.s, self.size
        if axis == "y":  # resin leaking out of the housing
            x0, y0, x1, y1 = ctx["box"]
            side = int(rng.integers(4))
            room = min(y0, size - y1) - 0.08 * size  # keep clear of the stamp corners
            out = float(np.clip(rng.uniform(10, 26) * s, 5 * s, max(room, 5 * s)))
            along = rng.uniform(14, 40) * s
            if side in (0, 1):  # left / right walls
                cy = rng.uniform(y0 + along * 0.6, y1 - along * 0.6)
                cx = x0 if side == 0 else x1
                radii = (out, along)
            else:  # top / bottom walls
                cx = rng.uniform(x0 + along, x1 - along)
                cy = y0 if side == 2 else y1
                radii = (along, out)
            add_resin_blob(sl.image, mask, ctx["outside"], (cx, cy), radii, self.resin, rng)
        elif rng.random() < 0.5:  # resin rising in a gap between cells, up to the busbar
            gaps = ctx["gaps"] or [ctx["walls"]]
            g0, g1 = gaps[int(rng.integers(len(gaps)))]
            rise = (ctx["fill_y"] - ctx["bar_y"]) * rng.uniform(0.6, 1.1)
            cx = (g0 + g1) / 2 + rng.normal(0, 4 * s)
            cy = ctx["fill_y"] - rise / 2
            add_resin_blob(
                sl.image,
                mask,
                ctx["air_above"],
                (cx, cy),
                (rng.uniform(10, 24) * s, rise / 2 + 2),
                self.resin,
                rng,
            )
        else:  # resin spilled over the busbar and cell tops
            w0, w1 = ctx["walls"]
            cx = rng.uniform(w0 + 0.2 * (w1 - w0), w1 - 0.2 * (w1 - w0))
            radii = (rng.uniform(18, 45) * s, rng.uniform(7, 14) * s)
            add_resin_blob(
                sl.image, mask, ctx["air_above"], (cx, ctx["bar_y"] + 2 * s), radii, self.resin, rng
            )
        if not mask.any():  # degenerate geometry: fall back to a blob on the fill line / wall
            allowed = ctx["outside"] if axis == "y" else ctx["air_above"]
            ys, xs = np.nonzero(allowed)
            k = int(rng.integers(len(xs)))
            add_resin_blob(sl.image, mask, allowed, (xs[k], ys[k]), (12 * s, 12 * s), self.resin, rng)
