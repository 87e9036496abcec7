"""Domain randomisation for CT: what a different scanner, window or reconstruction would change.

A model trained on one CT generator learns its look. :class:`ScannerAugment` varies, per
training image and each with its own probability, what varies across real scanners while the
anatomy of the battery stays: display gamma (window curve), detector blur, resampling (pixel
size), photon noise (additive and signal-dependent), low-frequency shading (cupping, scatter),
ring and streak artefacts, and bit depth. Its global intensity changes are monotonic (denser stays
brighter) and it moves no pixel, so the defect mask stays exact.

Registered as the ``scanner`` transform; the CT configs enable it with ``data.augment``.
:class:`IntensityWindow` (``intensity``) applies the scanner-independent intensity window.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from core.preprocessing.intensity import normalise_intensity
from training.transforms import Pair, PairTransform, register_transform

__all__ = ["IntensityWindow", "ScannerAugment"]


def _u(lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand(()))


def _hit(p: float) -> bool:
    return float(torch.rand(())) < p


def _rng() -> np.random.Generator:
    """A numpy generator seeded from torch's stream (DataLoader workers seed torch)."""
    return np.random.default_rng(int(torch.randint(0, 2**31 - 1, ())))


@register_transform("scanner")
class ScannerAugment(PairTransform):
    """Random scanner effects on a float CT slice in ``[0, 1]``.

    Args:
        gamma: Range of the display gamma.
        blur: Range of the detector blur sigma, in pixels of the model input.
        resample: Range of the down-then-up sampling factor (coarser pixels).
        noise: Range of the additive noise sigma (intensity units).
        shading: Largest amplitude of the smooth shading field.
        rings: Largest ring-artefact amplitude.
        streaks: Largest streak amplitude.
        probabilities: Probability of each effect, in the order gamma, blur, resample, noise,
            shading, rings, streaks, quantise.
        p: Probability of applying any effect at all.
    """

    def __init__(
        self,
        gamma: Sequence[float] = (0.6, 1.6),
        blur: Sequence[float] = (0.3, 1.0),
        resample: Sequence[float] = (1.2, 2.0),
        noise: Sequence[float] = (0.005, 0.05),
        shading: float = 0.12,
        rings: float = 0.03,
        streaks: float = 0.05,
        probabilities: Sequence[float] = (0.6, 0.35, 0.25, 0.7, 0.5, 0.25, 0.2, 0.25),
        p: float = 0.9,
    ) -> None:
        super().__init__(p)
        self.gamma, self.blur, self.resample, self.noise = tuple(gamma), tuple(blur), tuple(resample), tuple(noise)
        self.shading, self.rings, self.streaks = shading, rings, streaks
        if len(probabilities) != 8:
            raise ValueError("scanner: probabilities needs 8 values (gamma, blur, resample, noise, shading, rings, streaks, quantise)")
        self.probabilities = tuple(float(v) for v in probabilities)

    def apply(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        img = np.clip(np.asarray(image, np.float32), 0.0, 1.0)
        p_gamma, p_blur, p_resample, p_noise, p_shading, p_rings, p_streaks, p_quant = self.probabilities
        h, w = img.shape[:2]
        if _hit(p_gamma):
            img = img ** np.float32(_u(*self.gamma))
        if _hit(p_shading):
            img = img + self._shading(h, w)
        if _hit(p_rings):
            img = img + self._rings(h, w)
        if _hit(p_streaks):
            img = img + self._streaks(img)
        if _hit(p_resample):
            f = _u(*self.resample)
            small = cv2.resize(img, (max(int(w / f), 8), max(int(h / f), 8)), interpolation=cv2.INTER_AREA)
            img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        if _hit(p_blur):
            img = cv2.GaussianBlur(img, (0, 0), _u(*self.blur))
        if _hit(p_noise):
            sigma = _u(*self.noise)
            rng = _rng()
            signal = np.sqrt(np.clip(img, 0.0, 1.0)) if _hit(0.5) else 1.0  # photon noise grows with counts
            img = img + (rng.standard_normal(img.shape).astype(np.float32) * np.float32(sigma) * signal)
        img = np.clip(img, 0.0, 1.0)
        if _hit(p_quant):
            levels = 255.0 if _hit(0.7) else 4095.0
            img = np.round(img * levels) / levels
        return img.astype(np.float32), mask

    def _shading(self, h: int, w: int) -> np.ndarray:
        """Smooth low-frequency field: cupping, scatter, uneven flat-field."""
        rng = _rng()
        coarse = rng.standard_normal((4, 4)).astype(np.float32)
        field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
        field /= max(float(np.abs(field).max()), 1e-6)
        return field * np.float32(_u(0.0, self.shading))

    def _rings(self, h: int, w: int) -> np.ndarray:
        """Concentric rings around a centre near the middle (detector gain errors)."""
        rng = _rng()
        cy, cx = h / 2 + rng.normal(0, h * 0.05), w / 2 + rng.normal(0, w * 0.05)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        out = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(1, 6))):
            radius, width = rng.uniform(0.02, 0.5) * max(h, w), rng.uniform(0.5, 1.5)
            out += np.float32(rng.choice([-1, 1]) * rng.uniform(0.3, 1.0) * self.rings) * np.exp(
                -((r - radius) ** 2) / (2 * width**2)
            )
        return out

    def _streaks(self, img: np.ndarray) -> np.ndarray:
        """Straight bright/dark streaks through the densest points (metal, beam hardening)."""
        rng = _rng()
        h, w = img.shape[:2]
        out = np.zeros((h, w), np.float32)
        flat = np.argsort(img.ravel())[-50:]
        for idx in rng.choice(flat, size=min(2, flat.size), replace=False):
            y, x = divmod(int(idx), w)
            for _ in range(int(rng.integers(1, 4))):
                angle = rng.uniform(0, np.pi)
                dx, dy = np.cos(angle) * 2 * max(h, w), np.sin(angle) * 2 * max(h, w)
                line = np.zeros((h, w), np.float32)
                cv2.line(line, (int(x - dx), int(y - dy)), (int(x + dx), int(y + dy)), 1.0, 1, cv2.LINE_AA)
                out += line * np.float32(rng.choice([-1, 1]) * rng.uniform(0.3, 1.0) * self.streaks)
        return cv2.GaussianBlur(out, (0, 0), 0.7)


@register_transform("intensity")
class IntensityWindow(PairTransform):
    """The card's intensity normalisation (:func:`core.preprocessing.normalise_intensity`).

    The last step of the CT pipeline in training and evaluation, as in the predictor, so that
    every scanner effect above is seen through the same window the model gets at inspection.
    """

    def __init__(self, mode: str = "percentile", p: float = 1.0) -> None:
        super().__init__(p)
        normalise_intensity(np.zeros((2, 2), np.float32), mode)  # unknown mode -> ValueError now
        self.mode = mode

    def apply(self, image: np.ndarray, mask: np.ndarray) -> Pair:
        return normalise_intensity(image, self.mode), mask
