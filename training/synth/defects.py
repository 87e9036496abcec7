"""CT defects drawn into a rendered slice: porosity voids and resin overflow.

Each function darkens or fills pixels of the slice in place and sets exactly those pixels in
the boolean defect mask, so masks are pixel-exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.geometry import blob_mask, smooth_noise


@dataclass(frozen=True)
class PorosityStyle:
    """How voids look for one battery type (radii in pixels at 256 px, scaled with the image).

    Attributes:
        radius: Range of void radii for typical images.
        contrast: Range of the void's density loss (1 = empty, 0 = invisible).
        subtle_share: Share of defect images drawn from the subtle tail instead.
        subtle_radius: Void radii in the subtle tail.
        subtle_contrast: Density loss in the subtle tail.
        max_voids: Largest number of voids in one cluster.
        spread: Standard deviation of void positions around the cluster centre.
        single_share: Share of clusters that are a single void.
    """

    radius: tuple[float, float]
    contrast: tuple[float, float]
    subtle_share: float
    subtle_radius: tuple[float, float]
    subtle_contrast: tuple[float, float]
    max_voids: int
    spread: float
    single_share: float


# Cell porosity is the hardest class (seed 003): smaller voids inside the fine jelly-roll texture.
CELL_POROSITY = PorosityStyle(
    radius=(2.5, 5.0),
    contrast=(0.65, 0.95),
    subtle_share=0.10,
    subtle_radius=(1.6, 2.4),
    subtle_contrast=(0.4, 0.6),
    max_voids=7,
    spread=6.0,
    single_share=0.25,
)
MODULE_POROSITY = PorosityStyle(
    radius=(3.0, 7.0),
    contrast=(0.65, 0.95),
    subtle_share=0.06,
    subtle_radius=(1.8, 2.6),
    subtle_contrast=(0.45, 0.65),
    max_voids=10,
    spread=9.0,
    single_share=0.3,
)


def add_porosity(
    img: np.ndarray,
    mask: np.ndarray,
    region: np.ndarray,
    style: PorosityStyle,
    rng: np.random.Generator,
    air: float,
    tangent_center: tuple[float, float] | None = None,
) -> None:
    """Draw one to three clusters of gas voids inside ``region``, in place.

    Args:
        img: Float slice to darken.
        mask: Boolean defect mask to update.
        region: Boolean mask of where voids may lie (electrode layers or resin).
        style: Size/contrast distribution.
        rng: Random generator.
        air: Intensity of an empty void.
        tangent_center: If given, voids are elongated along circles around this point
            (delamination between jelly-roll windings).
    """
    scale = img.shape[0] / 256.0
    subtle = rng.random() < style.subtle_share
    radius = style.subtle_radius if subtle else style.radius
    contrast = style.subtle_contrast if subtle else style.contrast
    core = cv2.erode(region.astype(np.uint8), np.ones((5, 5), np.uint8))  # centres away from edges
    candidates = np.flatnonzero(core) if core.any() else np.flatnonzero(region)
    if candidates.size == 0:
        return
    n_clusters = 1 if subtle else int(min(3, 1 + rng.poisson(0.6)))
    width = img.shape[1]
    for _ in range(n_clusters):
        centre = int(candidates[rng.integers(candidates.size)])
        cy, cx = divmod(centre, width)
        n = 1 if (subtle or rng.random() < style.single_share) else int(rng.integers(2, style.max_voids + 1))
        layer = np.zeros(img.shape, np.uint8)
        for k in range(n):
            x = cx + (rng.normal(0, style.spread * scale) if k else 0.0)
            y = cy + (rng.normal(0, style.spread * scale) if k else 0.0)
            r = rng.uniform(*radius) * scale
            aspect = rng.uniform(1.0, 2.0)
            if tangent_center is not None:
                angle = np.degrees(np.arctan2(y - tangent_center[1], x - tangent_center[0])) + 90.0
            else:
                angle = rng.uniform(0, 180)
            axes = (max(1, round(r * aspect**0.5)), max(1, round(r / aspect**0.5)))
            cv2.ellipse(layer, (round(x), round(y)), axes, float(angle), 0, 360, 1, -1)
        voids = layer.astype(bool) & region
        c = np.float32(rng.uniform(*contrast))
        img[voids] = img[voids] * (1 - c) + np.float32(air) * c
        mask |= voids


def add_resin_blob(
    img: np.ndarray,
    mask: np.ndarray,
    allowed: np.ndarray,
    center: tuple[float, float],
    radii: tuple[float, float],
    level: float,
    rng: np.random.Generator,
) -> None:
    """Fill an irregular blob of resin where resin must not be (``allowed``), in place.

    Args:
        img: Float slice.
        mask: Boolean defect mask to update.
        allowed: Where overflowing resin can appear (normally empty space).
        center: ``(x, y)`` of the blob.
        radii: ``(rx, ry)`` half-extent.
        level: Resin intensity.
        rng: Random generator.
    """
    blob = blob_mask(rng, img.shape, center, radii, lobes=int(rng.integers(4, 8))) & allowed
    texture = np.float32(level) + np.float32(0.03) * smooth_noise(rng, img.shape, 12)
    img[blob] = texture[blob]
    mask |= blob
