"""Linear attenuation coefficients (1/cm) of the materials in a battery, versus photon energy.

Each material is an elemental composition (mass fractions) and a density. Mass attenuation
coefficients (total, with coherent scattering) come from ``xraylib`` when it is installed
(``mu = density * sum_i w_i (mu/rho)_i``). Without ``xraylib`` the values are log-log
interpolated in :data:`FALLBACK_MU`, a small table of the same quantities at eleven energies;
it was computed with ``xraylib`` 4.3 and agrees with NIST XCOM to a few percent, which is
all a synthetic training set needs.

Electrode coatings are modelled as they sit in a cell: porous coatings whose pores are filled
with electrolyte (LiPF6 in carbonate solvents). Note that a transition-metal oxide cathode
coating (NMC, ~3.4 g/cm^3) attenuates more than aluminium at every energy used here.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Mass fractions of LiPF6 (12 %) in EC/DMC, rounded.
_ELECTROLYTE = {"H": 0.05, "Li": 0.006, "C": 0.35, "O": 0.48, "F": 0.087, "P": 0.027}
_NMC622 = {"Li": 0.072, "Ni": 0.363, "Mn": 0.113, "Co": 0.121, "O": 0.331}


def _mix(*parts: tuple[float, dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for share, comp in parts:
        for el, w in comp.items():
            out[el] = out.get(el, 0.0) + share * w
    total = sum(out.values())
    return {el: w / total for el, w in out.items()}


# name -> (mass fractions, density g/cm^3)
MATERIALS: dict[str, tuple[dict[str, float], float]] = {
    "air": ({"N": 0.755, "O": 0.232, "Ar": 0.013}, 0.0012),
    "steel": ({"Fe": 0.985, "Ni": 0.005, "Mn": 0.008, "C": 0.002}, 7.85),  # nickel-plated can
    "aluminium": ({"Al": 1.0}, 2.70),
    "copper": ({"Cu": 1.0}, 8.96),
    "nickel": ({"Ni": 1.0}, 8.90),  # tabs
    "cu_foil": ({"Cu": 1.0}, 8.96),
    "al_foil": ({"Al": 1.0}, 2.70),
    "anode": (_mix((0.80, {"C": 1.0}), (0.03, {"C": 0.5, "H": 0.07, "O": 0.43}), (0.17, _ELECTROLYTE)), 1.85),
    "cathode": (
        _mix(
            (0.90, _NMC622),
            (0.03, {"C": 1.0}),
            (0.03, {"C": 0.375, "H": 0.031, "F": 0.594}),
            (0.04, _ELECTROLYTE),
        ),
        3.40,
    ),
    "separator": (_mix((0.5, {"C": 0.857, "H": 0.143}), (0.5, _ELECTROLYTE)), 1.08),
    "electrolyte": (_ELECTROLYTE, 1.25),
    "epoxy": ({"H": 0.063, "C": 0.721, "O": 0.216}, 1.17),  # unfilled potting resin
    "filled_epoxy": (
        _mix((0.45, {"H": 0.063, "C": 0.721, "O": 0.216}), (0.55, {"Al": 0.346, "O": 0.615, "H": 0.039})),
        1.65,
    ),
    "fr4": ({"H": 0.03, "C": 0.24, "O": 0.47, "Si": 0.18, "Ca": 0.06, "Al": 0.02}, 1.85),
    "polymer": ({"C": 0.857, "H": 0.143}, 0.90),  # PP gaskets, insulators, pouch film
    "coolant": ({"H": 0.105, "C": 0.155, "O": 0.74}, 1.07),  # water-glycol
    "foam": ({"C": 0.6, "H": 0.08, "O": 0.2, "Si": 0.12}, 0.35),  # compression pads
    "csi": ({"Cs": 0.5115, "I": 0.4885}, 4.51),  # detector scintillator
}

FALLBACK_ENERGIES = np.array([15, 20, 30, 40, 50, 60, 80, 100, 150, 200, 250], np.float64)
# Linear attenuation (1/cm) at FALLBACK_ENERGIES, from xraylib 4.3 (≈ NIST XCOM).
FALLBACK_MU: dict[str, tuple[float, ...]] = {
    "air": (
        0.001941,
        0.0009353,
        0.0004251,
        0.0002984,
        0.0002497,
        0.000225,
        0.0001995,
        0.0001849,
        0.0001627,
        0.000148,
        0.0001369,
    ),
    "steel": (447.4, 201.3, 64.09, 28.44, 15.34, 9.445, 4.667, 2.915, 1.541, 1.146, 0.9672),
    "aluminium": (21.48, 9.293, 3.047, 1.535, 0.994, 0.7501, 0.5448, 0.4601, 0.3722, 0.3302, 0.3024),
    "copper": (663.5, 302.8, 97.79, 43.56, 23.41, 14.27, 6.836, 4.108, 1.986, 1.397, 1.144),
    "nickel": (630.2, 286.6, 92.07, 40.94, 22.02, 13.45, 6.502, 3.951, 1.965, 1.408, 1.165),
    "cu_foil": (663.5, 302.8, 97.79, 43.56, 23.41, 14.27, 6.836, 4.108, 1.986, 1.397, 1.144),
    "al_foil": (21.48, 9.293, 3.047, 1.535, 0.994, 0.7501, 0.5448, 0.4601, 0.3722, 0.3302, 0.3024),
    "anode": (1.808, 0.9504, 0.5145, 0.4028, 0.357, 0.3319, 0.3026, 0.2837, 0.2519, 0.2298, 0.2129),
    "cathode": (121.4, 55.1, 17.81, 8.057, 4.455, 2.82, 1.489, 0.9944, 0.5939, 0.4698, 0.409),
    "separator": (1.34, 0.6827, 0.3485, 0.264, 0.2302, 0.2123, 0.1922, 0.1797, 0.1592, 0.1452, 0.1345),
    "electrolyte": (2.169, 1.041, 0.4686, 0.3268, 0.2726, 0.2453, 0.2172, 0.2012, 0.177, 0.161, 0.1489),
    "epoxy": (1.173, 0.6188, 0.3379, 0.266, 0.2364, 0.2201, 0.201, 0.1886, 0.1675, 0.1529, 0.1416),
    "filled_epoxy": (4.28, 1.969, 0.7923, 0.5038, 0.3965, 0.3449, 0.2955, 0.2702, 0.2349, 0.213, 0.1969),
    "fr4": (9.019, 4.032, 1.435, 0.7938, 0.5599, 0.4519, 0.3568, 0.3144, 0.2647, 0.2379, 0.219),
    "polymer": (0.6712, 0.3884, 0.2435, 0.2047, 0.1875, 0.1772, 0.164, 0.1546, 0.138, 0.1261, 0.1169),
    "coolant": (1.63, 0.8, 0.3818, 0.278, 0.2376, 0.2167, 0.1943, 0.181, 0.1599, 0.1456, 0.1348),
    "foam": (0.7427, 0.3512, 0.1506, 0.1008, 0.08203, 0.07276, 0.06357, 0.0586, 0.05131, 0.04663, 0.04313),
    "csi": (262.3, 121.1, 40.8, 103.6, 58.05, 35.72, 16.58, 9.179, 3.288, 1.716, 1.11),
}

ENERGIES = np.arange(10.0, 251.0, 1.0)  # keV grid of every table and spectrum


def _mu_xraylib(name: str, energies: np.ndarray) -> np.ndarray:
    import xraylib

    comp, rho = MATERIALS[name]
    out = np.zeros(len(energies))
    for el, w in comp.items():
        z = xraylib.SymbolToAtomicNumber(el)
        out += w * np.array([xraylib.CS_Total(z, float(e)) for e in energies])
    return out * rho


def _mu_fallback(name: str, energies: np.ndarray) -> np.ndarray:
    table = np.log(np.asarray(FALLBACK_MU[name]))
    return np.exp(np.interp(np.log(energies), np.log(FALLBACK_ENERGIES), table))


@lru_cache(maxsize=1)
def have_xraylib() -> bool:
    """Whether ``xraylib`` can be imported."""
    try:
        import xraylib  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=64)
def _mu_cached(name: str) -> np.ndarray:
    if name not in MATERIALS:
        raise ValueError(f"unknown material {name!r}; known: {', '.join(MATERIALS)}")
    return _mu_xraylib(name, ENERGIES) if have_xraylib() else _mu_fallback(name, ENERGIES)


def attenuation(name: str, energies: np.ndarray | float | None = None) -> np.ndarray:
    """Linear attenuation coefficient of material ``name`` in 1/cm.

    Args:
        name: A key of :data:`MATERIALS`.
        energies: Photon energies in keV (10-250); default :data:`ENERGIES`.

    Returns:
        ``mu`` at each energy (float64).

    Raises:
        ValueError: Unknown material.
    """
    mu = _mu_cached(name)
    if energies is None:
        return mu.copy()
    return np.exp(np.interp(np.log(np.asarray(energies, np.float64)), np.log(ENERGIES), np.log(mu)))
