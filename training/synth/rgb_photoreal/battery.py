"""A photoreal battery: its look and station are fixed; each photo varies pose, light, camera.

A defect photo is rendered twice from the same draws, once clean and once with the defect in
the battery's material layers. The mask is the battery pixels that differ after JPEG, within
the region that differed before JPEG (JPEG blocks spread changes beyond it), with pinholes
closed and specks under :data:`MIN_AREA` dropped; the output takes the defect photo inside the
mask and the clean photo outside it. So every changed pixel is in the mask, the mask is on the
battery, and its only unchanged pixels are closed pinholes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.rgb_photoreal.backgrounds import BACKGROUNDS, add_clutter
from training.synth.rgb_photoreal.camera import Camera, compress, draw_camera, expose, warp
from training.synth.rgb_photoreal.defects import DEFECTS
from training.synth.rgb_photoreal.forms import FORMS
from training.synth.rgb_photoreal.layers import Layers, Light, kelvin_to_rgb, shade, shade_background
from training.synth.rgb_photoreal.stations import STATIONS

CLOSE = np.ones((3, 3), np.uint8)
BENCH_MARGIN = 1.5  # the bench is drawn once per battery this much larger; each photo sees a part
MIN_AREA = 4  # smaller changed specks at a defect's fringe are left clean


@dataclass
class Photo:
    """One rendered photo.

    Attributes:
        image: uint8 RGB ``[H, W, 3]``.
        mask: Boolean defect mask (empty for ``normal``).
        silhouette: Boolean battery silhouette in the image.
        variant: Defect variant drawn (``""`` for ``normal``).
    """

    image: np.ndarray
    mask: np.ndarray
    silhouette: np.ndarray
    variant: str = ""


def _closed(mask: np.ndarray) -> np.ndarray:
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, CLOSE).astype(bool)


class PhotorealBattery:
    """One battery photographed at one station of a photoreal style.

    Args:
        battery_type: ``cell`` or ``module``.
        size: Image side in pixels.
        rng: Generator used to draw the battery's appearance and station.
        stations: Station names to draw from (:data:`~.stations.STATIONS`).
        style: Style name recorded in the manifest.
    """

    def __init__(
        self,
        battery_type: str,
        size: int,
        rng: np.random.Generator,
        stations: tuple[str, ...],
        style: str = "photoreal",
    ) -> None:
        self.battery_type = battery_type
        self.size = size
        self.s = size / 256.0
        self.station = STATIONS[stations[int(rng.integers(len(stations)))]]
        palette = np.asarray(self.station.palette, np.float32)
        self.background_colour = palette[int(rng.integers(len(palette)))] * np.float32(rng.uniform(0.9, 1.08))
        forms, shares = zip(*FORMS[battery_type])
        form = forms[int(rng.choice(len(forms), p=np.asarray(shares) / sum(shares)))]
        self.form = form(rng, size)
        self.light_azimuth = rng.uniform(*self.station.light_azimuth)
        self._bench_seed = int(rng.integers(2**63))
        self._bench: np.ndarray | None = None
        self._grain: np.ndarray | None = None
        self.manifest_extras = {"rgb_style": style, "rgb_station": self.station.name}

    def render(self, label: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Render one photo.

        Args:
            label: RGB label (``normal``, ``pollution``, ``scratch``, ``damage``).
            rng: Generator for this photo.

        Returns:
            ``(image, mask)``: uint8 RGB ``[H, W, 3]`` and uint8 mask (0/255).
        """
        photo = self.photo(label, rng)
        return photo.image, photo.mask.astype(np.uint8) * 255

    def photo(self, label: str, rng: np.random.Generator, variant: str | None = None) -> Photo:
        """Render one photo with its silhouette.

        Args:
            label: RGB label (``normal``, ``pollution``, ``scratch``, ``damage``).
            rng: Generator for this photo.
            variant: Defect variant of the label (see :data:`~.defects.DEFECTS`); drawn when ``None``.

        Returns:
            The photo. With the same ``rng`` state a defect photo equals the ``normal`` photo
            outside its mask.
        """
        size, st = self.size, self.station
        defect_rng = np.random.default_rng(rng.integers(2**63))  # scene draws do not depend on the defect
        scale = rng.uniform(*st.scale)
        light = self._light(rng)
        background = self._background(rng)
        shadow_dir = -light.direction[:2] / max(light.direction[2], 0.2) * 6 * self.s
        layers = Layers.empty(size)
        self.form.draw(layers, rng, st, scale)
        if self._grain is None:
            self._grain = np.random.default_rng([self._bench_seed, 1]).standard_normal(
                (size, size, 3), dtype=np.float32
            )
        cam = draw_camera(rng, st, size, self._grain)
        sil = layers.sil.astype(np.float32)
        shift = np.float32([[1, 0, shadow_dir[0]], [0, 1, shadow_dir[1]]])
        soft = (2 + 6 * light.size) * self.s
        cast = cv2.GaussianBlur(cv2.warpAffine(sil, shift, (size, size)), (0, 0), soft)
        contact = cv2.GaussianBlur(sil, (0, 0), 1.5 * self.s)
        shadow = np.clip(0.55 * (1 - 0.5 * light.size) * cast + 0.35 * contact, 0, 0.9)
        back = shade_background(background, light, shadow)
        clean = self._develop(layers, back, light, cam)
        sil_img = warp(cam, sil) > 0.5
        mask = np.zeros((size, size), bool)
        image = compress(cam, clean)
        name = ""
        if label != "normal":
            variants = DEFECTS[label]
            name = variant or tuple(variants)[int(defect_rng.integers(len(variants)))]
            damaged = layers.copy()
            variants[name](damaged, defect_rng, self.s)
            dirty = self._develop(damaged, back, light, cam)
            region = _closed((dirty != clean).any(axis=2)) & sil_img  # the defect's pixels before JPEG
            dirty = compress(cam, dirty)
            mask = _closed((dirty != image).any(axis=2) & region) & region  # ... that JPEG left changed
            n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
            specks = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < MIN_AREA)
            if n > 1 and specks.size:  # stray fringe pixels stay clean: no one-pixel boxes
                mask &= ~np.isin(labels, specks[specks > 0])
            image = np.where(mask[..., None], dirty, image)
        return Photo(image, mask, sil_img, name)

    def _background(self, rng: np.random.Generator) -> np.ndarray:
        """This photo's view of the station's bench (drawn once per battery, larger than a photo)."""
        st = self.station
        if self._bench is None:
            bench_rng = np.random.default_rng(self._bench_seed)
            side = int(self.size * BENCH_MARGIN)
            self._bench = BACKGROUNDS[st.background](bench_rng, side, self.background_colour, self.s)
            if st.clutter[1] > 0:
                azim = np.radians(self.light_azimuth)
                shadow = (-np.cos(azim) * 6 * self.s, -np.sin(azim) * 6 * self.s)
                count = int(bench_rng.integers(st.clutter[0], st.clutter[1] + 1))
                add_clutter(self._bench, bench_rng, round(count * BENCH_MARGIN**2), shadow, self.s)
        y0, x0 = (int(v) for v in rng.integers(0, self._bench.shape[0] - self.size + 1, 2))
        bench = self._bench[y0 : y0 + self.size, x0 : x0 + self.size]
        return bench * np.float32(rng.uniform(0.95, 1.05))

    def _light(self, rng: np.random.Generator) -> Light:
        st = self.station
        elev = np.radians(rng.uniform(*st.light_elevation))
        azim = np.radians(self.light_azimuth + rng.normal(0, 15))
        direction = np.array(
            [np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)], np.float32
        )
        cast = kelvin_to_rgb(rng.uniform(*st.colour_temperature)) ** np.float32(1 - st.white_balance)
        colour = cast * np.float32(rng.uniform(0.8, 0.95))
        return Light(direction, colour, float(rng.uniform(*st.ambient)), float(rng.uniform(*st.light_size)))

    @staticmethod
    def _develop(layers: Layers, back: np.ndarray, light: Light, cam: Camera) -> np.ndarray:
        ys, xs = np.nonzero(layers.sil.any(axis=1))[0], np.nonzero(layers.sil.any(axis=0))[0]
        rows = slice(max(int(ys[0]) - 2, 0), int(ys[-1]) + 3)
        cols = slice(max(int(xs[0]) - 2, 0), int(xs[-1]) + 3)
        part = layers.crop(rows, cols)
        radiance = back.copy()
        radiance[rows, cols] = np.where(part.sil[..., None], shade(part, light), back[rows, cols])
        return expose(cam, radiance)
