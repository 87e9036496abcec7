"""Base class of the synthetic CT batteries: scan profile, defects and artefacts for any slice.

One :class:`CTBattery` object is one physical battery: its geometry, materials and scan
profile are drawn once and reused for every slice, so slices of a battery look alike and
splitting by ``battery_id`` matters. Subclasses only describe the structure of a clean slice
(:meth:`CTBattery.structure`); the base class adds defects and acquisition artefacts.

Intensities are attenuation-like values in ``[0, 1]`` (air ~0.03, separator ~0.25, resin
~0.35, electrode ~0.6, steel ~0.9) and are stored as 16-bit PNG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from training.synth import artefacts
from training.synth.artefacts import ScanProfile
from training.synth.defects import PorosityStyle, add_porosity
from training.synth.geometry import smooth_noise

AIR = 0.03
TWO_PI = np.float32(2 * np.pi)


@dataclass
class Slice:
    """A clean rendered slice and what the defect and artefact stages need to know about it.

    Attributes:
        image: Float image in attenuation units.
        regions: Named boolean masks where porosity may appear (``electrode``, ``resin``).
        obj_radius: Radius of the object around the image centre (for cupping).
        metal: Points of dense metal that cause streaks.
        tangent_center: Winding centre for jelly-roll voids, if any.
        context: Free-form geometry that a subclass's overflow drawing needs.
    """

    image: np.ndarray
    regions: dict[str, np.ndarray]
    obj_radius: float
    metal: list[tuple[float, float]] = field(default_factory=list)
    tangent_center: tuple[float, float] | None = None
    context: dict = field(default_factory=dict)


class CTBattery:
    """Base class: draws the scan profile, adds defects and artefacts to any slice.

    Args:
        size: Image side in pixels.
        rng: Generator used to draw this battery's geometry and scan profile.
    """

    battery_type: ClassVar[str] = ""
    porosity: ClassVar[PorosityStyle]
    porosity_regions: ClassVar[tuple[str, ...]] = ("electrode",)

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size = size
        self.s = size / 256.0
        self.scan = ScanProfile.draw(rng)
        self.texture = smooth_noise(rng, (size, size), 6)  # slow density drift, fixed per battery
        self._radius = artefacts.radius_from_center(size, size / 2, size / 2)
        self.setup(rng)

    def setup(self, rng: np.random.Generator) -> None:
        """Draw the battery's geometry and materials."""
        raise NotImplementedError

    def structure(self, axis: str, pos: float, rng: np.random.Generator) -> Slice:
        """Render the clean slice at relative position ``pos`` in ``[0, 1]`` along ``axis``."""
        raise NotImplementedError

    def overflow(self, sl: Slice, mask: np.ndarray, axis: str, rng: np.random.Generator) -> None:
        """Draw resin where it does not belong (only batteries with potting resin)."""
        raise ValueError(f"{self.battery_type} batteries have no resin to overflow")

    def render(
        self, axis: str, pos: float, label: str, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Render one slice with its defect.

        Args:
            axis: ``y`` (axial cross-section) or ``x`` (longitudinal section).
            pos: Relative slice position in ``[0, 1]``.
            label: CT label; decides which defect (if any) is drawn.
            rng: Generator for this slice.

        Returns:
            ``(image, mask)``: float32 image in ``[0, 1]`` and uint8 mask (0/255).
        """
        defect_rng = np.random.default_rng(rng.integers(2**63))  # scene draws do not depend on the defect
        sl = self.structure(axis, pos, rng)
        mask = np.zeros(sl.image.shape, bool)
        if label.endswith("_porosity"):
            names = [n for n in self.porosity_regions if n in sl.regions and sl.regions[n].any()]
            # Tiny images can lose a region entirely; then any dense material will do.
            region = sl.regions[names[int(defect_rng.integers(len(names)))]] if names else sl.image > 0.1
            centre = sl.tangent_center if region is sl.regions.get("electrode") else None
            add_porosity(sl.image, mask, region, self.porosity, defect_rng, AIR, centre)
        elif label.endswith("_resin_overflow"):
            self.overflow(sl, mask, axis, defect_rng)
        img = sl.image
        artefacts.cupping(img, self._radius, sl.obj_radius, self.scan.cupping)
        if axis == "y":
            artefacts.rings(img, self._radius, self.scan)
        else:
            artefacts.bands(img, self.scan)
        artefacts.streaks(img, sl.metal, self.scan, rng)
        img = artefacts.finish(img, self.scan, rng)
        return img, mask.astype(np.uint8) * 255

    def layers(
        self, dist: np.ndarray, pitch: float, phase: float, lo: float, hi: float, duty: float
    ) -> np.ndarray:
        """Periodic electrode/separator layers as a function of a distance map.

        The profile is a sinusoid (what a pitch of a few pixels looks like after the scanner's
        point-spread) with a ``duty`` skew towards electrode or separator; having no sharp edges
        keeps it free of moire when images are downsampled.
        """
        c = np.cos(dist * np.float32(TWO_PI / pitch) + np.float32(phase))
        c *= np.float32(0.5 - 0.15 * abs(duty))
        c += np.float32(0.5 + 0.3 * duty)
        return np.float32(lo) + np.float32(hi - lo) * c
