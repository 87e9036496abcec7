"""A fleet of CT scanners: per-battery acquisition settings and the polychromatic acquisition.

:class:`ScanProfile` draws one scanner set-up from wide ranges. :class:`Scanner` turns a phantom
(basis images, see below) into a reconstructed slice the way a scanner does:

1. Line integrals of the phantom, once per basis image (projection is linear).
2. Polychromatic transmission ``T = sum_E w(E) exp(-p(E))`` over a few energy bins of the
   detected spectrum, ``p(E) = sum_m mu_m(E) L_m`` (beam hardening, cupping, metal streaks).
3. Detector blur, scatter (a smooth background added to the intensities, the blurred
   ``-T ln T`` scatter potential of Ohnesorge et al. 1999), automatic exposure
   (the operator's choice of flux), per-detector gain errors (rings), quantum and electronic
   noise, clipping of starved readings, ``-log``.
4. Optional water-style beam-hardening linearisation, filtered back-projection.

Basis images: the attenuation of the ``M`` materials in ``B`` energy bins is factorised as
``mu[m, b] ~= sum_k C[m, k] A[k, b]`` with ``k < 3`` (relative error below 1 %), so the phantom is
three images ``sum_m C[m, k] fraction_m`` rather than one per material, and three projections
give every ``p(E)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.physics.materials import ENERGIES
from training.synth.physics.projector import FILTERS, filtered_back_projection, forward_project
from training.synth.physics.spectrum import binned_attenuation, detected_spectrum, energy_bins

BASIS = 3
ENERGY_BINS = 6


@dataclass
class ScanProfile:
    """One scanner set-up (drawn once per battery).

    Attributes:
        kvp: Tube voltage (kV).
        al_mm: Added aluminium filtration (mm).
        cu_mm: Added copper filtration (mm).
        views: Projections over 180 degrees (even).
        blur: Detector point-spread sigma (detector bins).
        exposure: Counts behind the 2 % most attenuating rays (automatic exposure target).
        electronic: Electronic noise sigma (counts).
        scatter: Peak scatter level relative to the unattenuated beam.
        ring: Sigma of the per-detector relative gain error.
        bad_pixels: Number of detector bins with a large gain error.
        filter_name: Reconstruction filter window.
        cutoff: Filter cutoff (fraction of Nyquist).
        bh_correction: Whether a water-style beam-hardening linearisation is applied.
        window: ``auto`` (percentile window) or ``fixed`` (window from the materials).
        window_lo: Low percentile (auto) or low end as a fraction of the top material (fixed).
        window_hi: High percentile (auto) or high end as a fraction of the top material (fixed).
        bits: Grey-level depth of the scanner's export (8, 12 or 16).
        cor_shift: Centre-of-rotation error in detector bins.
    """

    kvp: float
    al_mm: float
    cu_mm: float
    views: int
    blur: float
    exposure: float
    electronic: float
    scatter: float
    ring: float
    bad_pixels: int
    filter_name: str
    cutoff: float
    bh_correction: bool
    window: str
    window_lo: float
    window_hi: float
    bits: int
    cor_shift: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> ScanProfile:
        """Draw a scanner set-up from the fleet's ranges."""
        kvp = float(rng.uniform(80, 225))
        auto = bool(rng.random() < 0.65)
        return cls(
            kvp=kvp,
            al_mm=float(rng.uniform(0.0, 3.0)),
            cu_mm=float(rng.uniform(0.0, 1.0 if kvp > 140 else 0.3) * (rng.random() < 0.7)),
            views=2 * int(round(np.exp(rng.uniform(np.log(60), np.log(720))) / 2)),
            blur=float(rng.uniform(0.3, 1.5)),
            exposure=float(np.exp(rng.uniform(np.log(150), np.log(8000)))),
            electronic=float(rng.uniform(0.0, 4.0)),
            scatter=float(rng.uniform(0.0, 0.12)),
            ring=float(np.exp(rng.uniform(np.log(5e-4), np.log(1.5e-2)))),
            bad_pixels=int(rng.poisson(1.0)),
            filter_name=str(rng.choice(FILTERS)),
            cutoff=float(rng.uniform(0.6, 1.0)),
            bh_correction=bool(rng.random() < 0.5),
            window="auto" if auto else "fixed",
            window_lo=float(rng.uniform(0.0, 3.0) if auto else rng.uniform(-0.08, 0.02)),
            window_hi=float(rng.uniform(99.3, 99.99) if auto else rng.uniform(0.6, 1.3)),
            bits=int(rng.choice([8, 12, 16], p=[0.3, 0.3, 0.4])),
            cor_shift=float(rng.normal(0, 0.3) if rng.random() < 0.3 else 0.0),
        )


class Scanner:
    """Acquire and reconstruct slices of phantoms made of ``materials`` with one profile.

    Args:
        profile: The scanner set-up.
        materials: Material names the phantoms use (order fixes :attr:`coef` rows).
        reference: Material of the beam-hardening linearisation.
    """

    def __init__(self, profile: ScanProfile, materials: list[str], reference: str = "electrolyte") -> None:
        self.profile = profile
        self.materials = list(materials)
        weights = detected_spectrum(profile.kvp, profile.al_mm, profile.cu_mm)
        edges, self.bin_weights = energy_bins(weights, ENERGY_BINS)
        self.effective_kev = float((weights * ENERGIES).sum())
        names = [*self.materials, reference]
        mu = binned_attenuation(names, weights, edges)  # [M + 1, B]
        scale = mu.mean(1, keepdims=True)
        u, s, vt = np.linalg.svd(mu / scale, full_matrices=False)
        coef = u[:, :BASIS] * s[:BASIS] * scale  # [M + 1, K]
        self.energy_basis = vt[:BASIS].astype(np.float32)  # [K, B]
        self.coef = {n: coef[i].astype(np.float32) for i, n in enumerate(self.materials)}
        #: Spectrum-weighted mean attenuation (1/cm) of every material.
        self.mu_mean = {n: float(mu[i] @ self.bin_weights) for i, n in enumerate(self.materials)}
        ref_mu = mu[-1]
        t = np.linspace(0, 200.0, 256)  # cm of the reference material
        self._bh_poly = -np.log(np.exp(-np.outer(t, ref_mu)) @ self.bin_weights)
        self._bh_mono = t * float(ref_mu @ self.bin_weights)

    def acquire(self, basis: np.ndarray, px_cm: float, rng: np.random.Generator) -> np.ndarray:
        """Scan and reconstruct one slice.

        Args:
            basis: ``[n, n, 3]`` basis images (1/cm), see :attr:`coef`.
            px_cm: Pixel side in cm.
            rng: Noise generator.

        Returns:
            ``[n, n]`` float32 reconstruction in 1/cm (effective attenuation).
        """
        pr = self.profile
        n = basis.shape[0]
        lines = forward_project(basis, pr.views) * np.float32(px_cm)  # [V, D, K]
        p_e = np.maximum(lines @ self.energy_basis, 0.0)  # [V, D, B]
        trans = np.exp(-p_e) @ self.bin_weights.astype(np.float32)  # [V, D]
        k = 2 * int(np.ceil(3 * pr.blur)) + 1
        trans = cv2.GaussianBlur(trans, (k, 1), pr.blur, borderType=cv2.BORDER_REPLICATE)
        if pr.scatter > 0:  # Ohnesorge-style object scatter: a smooth blur of -T ln T (none in air)
            source = -trans * np.log(np.maximum(trans, 1e-12)) * np.float32(np.e)
            small = cv2.resize(source, (trans.shape[1] // 8, trans.shape[0]), interpolation=cv2.INTER_AREA)
            small = cv2.GaussianBlur(small, (0, 0), sigmaX=n / 40, sigmaY=3, borderType=cv2.BORDER_REPLICATE)
            trans = trans + np.float32(pr.scatter) * cv2.resize(
                small, trans.shape[::-1], interpolation=cv2.INTER_LINEAR
            )
        n0 = float(np.clip(pr.exposure / max(np.quantile(trans[:, ::4], 0.02), 1e-9), 1e3, 1e6))
        gain = 1.0 + rng.normal(0.0, pr.ring, trans.shape[1])
        if pr.bad_pixels:
            gain[rng.integers(0, trans.shape[1], pr.bad_pixels)] *= 1 + rng.uniform(
                -0.15, 0.15, pr.bad_pixels
            )
        counts = n0 * trans * gain.astype(np.float32)
        counts += np.sqrt(counts + pr.electronic**2) * rng.standard_normal(counts.shape, np.float32)
        counts = np.maximum(counts, 1.0)  # starved rays: streaks
        sino = -np.log(counts / np.float32(n0))
        if pr.bh_correction:
            sino = np.interp(sino, self._bh_poly, self._bh_mono).astype(np.float32)
        if pr.cor_shift:
            sino = _shift(sino, pr.cor_shift)
        rec = filtered_back_projection(sino.astype(np.float32), n, pr.filter_name, pr.cutoff)
        return rec / np.float32(px_cm)

    def display(self, rec: np.ndarray, top_mu: float) -> np.ndarray:
        """Window and quantise a reconstruction as the scanner's export would.

        Args:
            rec: Reconstruction in 1/cm.
            top_mu: Attenuation (1/cm) that the fixed window is scaled to (dense part of the object).

        Returns:
            Float32 image in ``[0, 1]`` with ``2^bits`` grey levels.
        """
        pr = self.profile
        if pr.window == "auto":
            lo, hi = np.percentile(rec[::2, ::2], [pr.window_lo, pr.window_hi])
        else:
            lo, hi = pr.window_lo * top_mu, pr.window_hi * top_mu
        img = np.clip((rec - np.float32(lo)) / np.float32(max(hi - lo, 1e-6)), 0.0, 1.0)
        levels = np.float32(2**pr.bits - 1)
        return (np.round(img * levels) / levels).astype(np.float32)


def _shift(sino: np.ndarray, shift: float) -> np.ndarray:
    """Shift every view by ``shift`` detector bins (linear interpolation)."""
    x = np.arange(sino.shape[1], dtype=np.float32)
    return np.stack([np.interp(x - shift, x, row) for row in sino]).astype(np.float32)
