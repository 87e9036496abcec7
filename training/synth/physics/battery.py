""":class:`PhysicsBattery`: a battery scanned by a simulated CT scanner (the ``physics`` engine).

Same interface as :class:`training.synth.ct.base.CTBattery`: the geometry, placement in the
field of view and the scanner are drawn once per battery, :meth:`PhysicsBattery.render` draws
one slice. A slice is a material phantom (with partial volume) on the output grid, a defect
that changes material fractions, a polychromatic acquisition and a filtered back-projection.
"""

from __future__ import annotations

import numpy as np

from core.manifest import CT_LABELS
from training.synth.physics import defects
from training.synth.physics.cells import CellGeometry
from training.synth.physics.materials import MATERIALS, attenuation
from training.synth.physics.modules import ModuleGeometry
from training.synth.physics.phantom import Canvas, Frame
from training.synth.physics.scanner import Scanner, ScanProfile
from training.synth.physics.spectrum import spectrum_table

GEOMETRIES = {"cell": CellGeometry, "module": ModuleGeometry}
MIN_SIZE = 64


def warm_up() -> None:
    """Load the attenuation and spectrum tables (worth doing once before forking workers)."""
    for name in MATERIALS:
        attenuation(name)
    spectrum_table()


def draw_frame(extent: float, n: int, axis: str, rng: np.random.Generator) -> Frame:
    """Field of view: the object fills the frame, is cropped at its edge, or is small in it."""
    mode = rng.choice(["fill", "crop", "small"], p=[0.55, 0.2, 0.25])
    ratio = {"fill": rng.uniform(0.72, 0.95), "crop": rng.uniform(1.0, 1.5), "small": rng.uniform(0.3, 0.6)}[
        mode
    ]
    slack = max(1.0 - ratio, 0.3) * n * 0.4
    centre = (
        n / 2 + rng.uniform(-slack, slack) * (mode != "fill" or 0.3),
        n / 2 + rng.uniform(-slack, slack) * (mode != "fill" or 0.3),
    )
    if axis == "y":
        angle = rng.uniform(0, 2 * np.pi)
    else:  # upright, lying, or at any angle
        angle = (
            rng.choice([0.0, np.pi, np.pi / 2, -np.pi / 2])
            if rng.random() < 0.7
            else rng.uniform(0, 2 * np.pi)
        )
    return Frame(
        n=n, px=extent / (n * ratio), angle=float(angle), centre=(float(centre[0]), float(centre[1]))
    )


class PhysicsBattery:
    """One physical battery and the scanner it is imaged with.

    Args:
        battery_type: ``cell`` or ``module``.
        size: Image side in pixels (at least 64).
        rng: Generator that draws the geometry, field of view and scanner.

    Raises:
        ValueError: Unknown battery type or size below 64.

    Attributes:
        last: Ground truth of the last rendered slice: ``defect`` (defect share of every pixel),
            ``regions`` (region shares), ``mu`` (effective attenuation of the phantom, 1/cm)
            and ``recon`` (reconstruction before windowing, 1/cm).
    """

    def __init__(self, battery_type: str, size: int, rng: np.random.Generator) -> None:
        if battery_type not in GEOMETRIES:
            raise ValueError(f"unknown battery type {battery_type!r}; known: {', '.join(GEOMETRIES)}")
        if int(size) < MIN_SIZE:
            raise ValueError(f"size must be at least {MIN_SIZE} px, got {size}")
        self.battery_type = battery_type
        self.size = int(size)
        self.geometry = GEOMETRIES[battery_type].draw(rng)
        self.frames = {
            axis: draw_frame(self.geometry.extent(axis), self.size, axis, rng) for axis in ("y", "x")
        }
        self.profile = ScanProfile.draw(rng)
        self.scanner = Scanner(self.profile, self.geometry.materials)
        self._mu_weights = (self.scanner.energy_basis @ self.scanner.bin_weights).astype(np.float32)
        self._coords: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.last: dict = {}

    def render(
        self, axis: str, pos: float, label: str, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Render one slice with its defect.

        Args:
            axis: ``y`` (axial cross-section) or ``x`` (longitudinal section).
            pos: Relative slice position in ``[0, 1]``.
            label: CT label of this battery type; decides which defect (if any) is drawn.
            rng: Generator for this slice.

        Returns:
            ``(image, mask)``: float32 ``[size, size]`` image in ``[0, 1]`` and uint8 mask (0/255).

        Raises:
            ValueError: Unknown axis, or a label that is not a CT label of this battery type.
        """
        if axis not in self.frames:
            raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
        if label not in CT_LABELS or not label.startswith(self.battery_type + "_"):
            raise ValueError(f"label {label!r} is not a CT label of a {self.battery_type}")
        defect_rng = np.random.default_rng(rng.integers(2**63))  # the scene does not depend on the defect
        frame = self.frames[axis]
        if axis not in self._coords:
            self._coords[axis] = frame.coords()
        cv = Canvas(frame, self.scanner.coef, *self._coords[axis])
        ctx = self.geometry.paint(cv, axis, float(pos))
        share = np.zeros((self.size, self.size), np.float32)
        if label.endswith("_porosity"):
            names = [
                r for r in ("resin", "electrode") if r in cv.regions and (cv.regions[r] >= 0.75).sum() >= 4
            ]
            if "resin" in names and defect_rng.random() < 0.4:
                names = ["electrode"] if "electrode" in names else names
            name = names[0] if names else "electrode"
            centre = None
            if name == "electrode" and ctx.get("centre") is not None:
                centre = frame.to_pixel(*ctx["centre"])
            share = defects.voids(cv.regions.get(name, cv.occupied), defect_rng, centre)
            cv.paint("air", share)
        elif label.endswith("_resin_overflow"):
            share = defects.overflow(cv, ctx, axis, defect_rng)
            cv.paint(self.geometry.resin, share)
        rec = self.scanner.acquire(cv.basis, frame.px / 10.0, rng)
        mu = cv.basis @ self._mu_weights
        dense = mu[::2, ::2][mu[::2, ::2] > 0.05]  # the fixed window follows the object's bulk
        image = self.scanner.display(rec, float(np.percentile(dense, 90)) if dense.size else 1.0)
        mask = share >= 0.5
        self.last = {"defect": share, "regions": cv.regions, "mu": mu, "recon": rec}
        return image, mask.astype(np.uint8) * 255
