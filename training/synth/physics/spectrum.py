"""X-ray tube spectra and their reduction to a few energy bins for polychromatic projection.

The unfiltered tungsten-anode spectrum (12 degree anode, tube voltage on a 10 kV grid) comes
from ``spectra.npz`` beside this module, a table computed with ``spekpy`` by
:func:`build_spectrum_table` (``spekpy`` takes ~0.5 s per spectrum and ~1 s to import, which a
generator drawing one scanner per battery cannot afford); for a voltage missing from the table,
from ``spekpy`` when it is installed, else from Kramers' law ``N(E) ~ (kVp - E) / E`` with
0.8 mm of aluminium inherent filtration. Added filtration
(aluminium, copper) is applied here as ``exp(-mu t)`` with :mod:`.materials`. The detector is an
energy-integrating CsI scintillator: each photon counts with weight ``E (1 - exp(-mu_CsI d))``.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

from training.synth.physics.materials import ENERGIES, attenuation

log = logging.getLogger(__name__)

KVP_STEP = 10.0
TABLE = Path(__file__).with_name("spectra.npz")
TABLE_KVPS = np.arange(80.0, 231.0, KVP_STEP)


@lru_cache(maxsize=1)
def spectrum_table() -> dict[float, np.ndarray]:
    """The shipped unfiltered spectra by tube voltage (empty if the file is missing)."""
    if not TABLE.exists():
        return {}
    with np.load(TABLE) as z:
        return {float(k): z["spectra"][i] for i, k in enumerate(z["kvps"])}


def build_spectrum_table(path: Path = TABLE) -> None:
    """Compute the unfiltered spectra of :data:`TABLE_KVPS` with ``spekpy`` and save them."""
    spectra = np.stack([_spekpy_spectrum(float(k)) for k in TABLE_KVPS]).astype(np.float32)
    np.savez_compressed(path, kvps=TABLE_KVPS, energies=ENERGIES, spectra=spectra)


def _spekpy_spectrum(kvp: float) -> np.ndarray:
    import spekpy

    k, f = spekpy.Spek(kvp=kvp, th=12.0).get_spectrum()
    out = np.interp(ENERGIES, k, f, left=0.0, right=0.0)
    out[ENERGIES >= kvp] = 0.0
    return out


@lru_cache(maxsize=1)
def have_spekpy() -> bool:
    """Whether ``spekpy`` can be imported."""
    try:
        import spekpy  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=64)
def _raw_spectrum(kvp: float) -> np.ndarray:
    """Unfiltered photon spectrum on :data:`ENERGIES` (arbitrary units, zero above ``kvp``)."""
    if kvp in spectrum_table():
        out = spectrum_table()[kvp].astype(np.float64)
    elif have_spekpy():
        out = _spekpy_spectrum(kvp)
    else:
        out = np.clip(kvp - ENERGIES, 0, None) / ENERGIES
        out = out * np.exp(-attenuation("aluminium") * 0.08)
    out[ENERGIES >= kvp] = 0.0
    return out


def detected_spectrum(kvp: float, al_mm: float, cu_mm: float, csi_mm: float = 0.6) -> np.ndarray:
    """Energy-integrating detector weights on :data:`ENERGIES` (normalised to sum 1).

    Args:
        kvp: Tube voltage in kV (rounded to a 10 kV grid).
        al_mm: Added aluminium filtration in mm.
        cu_mm: Added copper filtration in mm.
        csi_mm: Scintillator thickness in mm.
    """
    kvp = float(np.clip(round(kvp / KVP_STEP) * KVP_STEP, 20.0, 250.0))
    s = _raw_spectrum(kvp).copy()
    s *= np.exp(-attenuation("aluminium") * al_mm / 10 - attenuation("copper") * cu_mm / 10)
    s *= ENERGIES * (1.0 - np.exp(-attenuation("csi") * csi_mm / 10))
    return s / s.sum()


def energy_bins(weights: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Split a spectrum into ``bins`` bins of equal detected weight.

    Returns:
        ``(edges, bin_weights)``: ``bins + 1`` indices into :data:`ENERGIES` and the weight of
        each bin (sums to 1).
    """
    cum = np.cumsum(weights)
    cuts = np.searchsorted(cum, np.linspace(0, 1, bins + 1)[1:-1])
    nz = np.nonzero(weights)[0]
    edges = np.concatenate([[nz[0]], cuts, [nz[-1] + 1]])
    edges = np.maximum.accumulate(np.maximum(edges, np.arange(len(edges)) + nz[0]))
    w = np.array([weights[a:b].sum() for a, b in zip(edges[:-1], edges[1:])])
    return edges, w / w.sum()


def binned_attenuation(names: list[str], weights: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Spectrum-weighted mean ``mu`` of every material in every energy bin, ``[materials, bins]``."""
    mu = np.stack([attenuation(n) for n in names])
    out = np.empty((len(names), len(edges) - 1))
    for b, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        w = weights[lo:hi]
        out[:, b] = (mu[:, lo:hi] * w).sum(1) / max(w.sum(), 1e-30)
    return out
