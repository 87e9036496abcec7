"""The physics CT engine: attenuation data, projector, phantoms with defects, and the synth CLI."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import InputError
from core.manifest import read_manifest
from training.synth import generate, load_config
from training.synth.physics.battery import PhysicsBattery
from training.synth.physics.materials import (
    ENERGIES,
    FALLBACK_ENERGIES,
    _mu_fallback,
    attenuation,
    have_xraylib,
)
from training.synth.physics.phantom import Frame
from training.synth.physics.projector import filtered_back_projection, forward_project, view_angles
from training.synth.physics.spectrum import (
    TABLE_KVPS,
    _spekpy_spectrum,
    detected_spectrum,
    have_spekpy,
    spectrum_table,
)


def _clean_scanner(b: PhysicsBattery) -> None:
    """A well-exposed, artefact-light scan so the grey levels follow the materials."""
    pr = b.profile
    pr.views, pr.blur, pr.exposure, pr.electronic = 360, 0.5, 3000.0, 0.0
    pr.scatter, pr.ring, pr.bad_pixels, pr.cor_shift = 0.0, 0.0, 0, 0.0
    pr.filter_name, pr.cutoff, pr.bh_correction = "hann", 1.0, True
    pr.window, pr.window_lo, pr.window_hi, pr.bits = "auto", 0.5, 99.95, 16


def _cell(seed: int, size: int = 128) -> PhysicsBattery:
    b = PhysicsBattery("cell", size, np.random.default_rng(seed))
    b.frames["y"] = Frame(
        n=size, px=2 * b.geometry.radius / (0.9 * size), angle=0.3, centre=(size / 2, size / 2)
    )
    _clean_scanner(b)
    return b


def test_attenuation_order_at_60_kev() -> None:
    # NMC cathode coating (transition-metal oxide, ~3.4 g/cm^3) attenuates more than aluminium.
    order = ["air", "separator", "electrolyte", "anode", "aluminium", "cathode", "steel", "copper"]
    mu = [float(attenuation(name, 60.0)) for name in order]
    assert mu == sorted(mu), dict(zip(order, mu))
    assert attenuation("steel", 60.0) == pytest.approx(9.4, rel=0.05)  # NIST XCOM: Fe 1.205 cm^2/g
    assert attenuation("aluminium", 100.0) == pytest.approx(0.46, rel=0.05)


@pytest.mark.skipif(not have_xraylib(), reason="xraylib not installed")
def test_fallback_table_matches_xraylib() -> None:
    for name in ("steel", "anode", "cathode", "epoxy"):
        e = np.array([25.0, 70.0, 120.0])
        assert np.allclose(_mu_fallback(name, e), attenuation(name, e), rtol=0.08), name
    assert len(FALLBACK_ENERGIES) == 11


@pytest.mark.skipif(not have_spekpy(), reason="spekpy not installed")
def test_shipped_spectra_match_spekpy() -> None:
    table = spectrum_table()
    assert set(TABLE_KVPS) <= set(table)
    ref = _spekpy_spectrum(150.0)
    assert np.allclose(table[150.0], ref, rtol=1e-4, atol=1e-6 * ref.max())


def test_detected_spectrum_is_hardened_by_filtration() -> None:
    soft, hard = detected_spectrum(120, 0.0, 0.0), detected_spectrum(120, 2.0, 0.5)
    assert soft.sum() == pytest.approx(1.0) and hard.sum() == pytest.approx(1.0)
    assert (hard * ENERGIES).sum() > (soft * ENERGIES).sum() + 5  # mean energy up by > 5 keV
    assert soft[ENERGIES >= 120].sum() == 0.0


def test_projector_line_integrals_and_fbp_of_a_disc() -> None:
    n, views = 96, 120
    yy, xx = (np.mgrid[:n, :n] - n // 2).astype(np.float32)
    ss = np.zeros((n, n), np.float32)
    for a in (np.arange(4) + 0.5) / 4 - 0.5:  # 4x4 supersampled disc of radius 30 at (8, -5)
        for b in (np.arange(4) + 0.5) / 4 - 0.5:
            ss += ((xx + a - 8) ** 2 + (yy + b + 5) ** 2 < 30**2) / 16
    sino = forward_project(ss[..., None], views)[..., 0]
    theta = view_angles(views)
    t = np.arange(sino.shape[1]) - sino.shape[1] // 2
    t0 = 8 * np.cos(theta) - 5 * np.sin(theta)
    exact = 2 * np.sqrt(np.clip(30**2 - (t[None] - t0[:, None]) ** 2, 0, None))
    assert float(np.abs(sino - exact).mean() / exact.max()) < 0.01
    mass = float(np.abs(sino.sum(1) / ss.sum() - 1).max())
    assert mass < 0.02  # every view sees all the mass
    rec = filtered_back_projection(sino, n)
    inside = (xx - 8) ** 2 + (yy + 5) ** 2 < 26**2
    outside = (xx - 8) ** 2 + (yy + 5) ** 2 > 34**2
    assert rec[inside].mean() == pytest.approx(1.0, abs=0.02)
    assert abs(rec[outside].mean()) < 0.02


def test_void_is_darker_than_its_coating_and_the_can_is_brightest() -> None:
    for seed in range(20):
        b = _cell(seed)
        img, mask = b.render("y", 0.5, "cell_porosity", np.random.default_rng(seed))
        void = b.last["defect"] >= 0.5
        if void.sum() >= 12:
            break
    assert void.sum() >= 12
    electrode = b.last["regions"]["electrode"] >= 0.99
    k = np.ones((3, 3), np.uint8)
    ring = cv2.dilate(void.astype(np.uint8), k, iterations=4).astype(bool)
    ring &= ~cv2.dilate(void.astype(np.uint8), k, iterations=1).astype(bool) & electrode
    assert ring.sum() >= 8
    assert img[void].mean() < img[ring].mean() - 0.05
    x, y = b.frames["y"].coords()
    r, g, px = np.hypot(x, y), b.geometry, b.frames["y"].px
    can = np.abs(r - (g.radius - g.wall / 2)) < 0.5 * px  # pixels centred in the steel can wall
    rest = (r < g.radius - g.wall - 2 * px) & (b.last["mu"] > 0.1)  # everything inside the can
    assert img[can].mean() > np.percentile(img[rest], 99)


@pytest.mark.parametrize("battery_type", ["cell", "module"])
def test_mask_is_the_void_share_at_one_half(battery_type: str) -> None:
    labels = {
        "cell": ["cell_normal", "cell_porosity"],
        "module": ["module_normal", "module_porosity", "module_resin_overflow"],
    }
    for seed in range(3):
        b = PhysicsBattery(battery_type, 64, np.random.default_rng(seed))
        for axis in ("y", "x"):
            for label in labels[battery_type]:
                img, mask = b.render(axis, 0.3 + 0.2 * seed, label, np.random.default_rng([seed, 1]))
                assert img.shape == mask.shape == (64, 64)
                assert img.dtype == np.float32 and mask.dtype == np.uint8
                assert 0.0 <= img.min() and img.max() <= 1.0
                assert set(np.unique(mask)) <= {0, 255}
                np.testing.assert_array_equal(mask, (b.last["defect"] >= 0.5).astype(np.uint8) * 255)
                assert mask.any() == label.endswith(("_porosity", "_resin_overflow")), (seed, axis, label)


def test_void_pixels_are_darker_than_their_ring_in_a_module() -> None:
    b = PhysicsBattery("module", 128, np.random.default_rng(4))
    _clean_scanner(b)
    darker = 0
    for seed in range(4):
        img, mask = b.render("y", 0.3, "module_porosity", np.random.default_rng(seed))
        void = mask > 0
        occ = b.last["mu"] > 0.05
        k = np.ones((3, 3), np.uint8)
        ring = cv2.dilate(void.astype(np.uint8), k, iterations=3).astype(bool)
        ring &= ~cv2.dilate(void.astype(np.uint8), k, iterations=1).astype(bool) & occ
        darker += int(ring.sum() > 0 and img[void].mean() < img[ring].mean())
    assert darker >= 3


def test_same_seeds_same_slices() -> None:
    def run() -> tuple[np.ndarray, np.ndarray]:
        b = PhysicsBattery("module", 64, np.random.default_rng(7))
        return b.render("x", 0.4, "module_resin_overflow", np.random.default_rng(8))

    (a, ma), (b, mb) = run(), run()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ma, mb)
    c, _ = PhysicsBattery("module", 64, np.random.default_rng(7)).render(
        "x", 0.4, "module_resin_overflow", np.random.default_rng(9)
    )
    assert not np.array_equal(a, c)  # noise differs with the slice's generator


def test_bad_arguments_give_one_line_errors() -> None:
    with pytest.raises(ValueError, match="unknown battery type 'pack'") as exc:
        PhysicsBattery("pack", 64, np.random.default_rng(0))
    assert "\n" not in str(exc.value)
    with pytest.raises(ValueError, match="at least 64") as exc:
        PhysicsBattery("cell", 32, np.random.default_rng(0))
    assert "\n" not in str(exc.value)
    b = PhysicsBattery("cell", 64, np.random.default_rng(0))
    with pytest.raises(ValueError, match="not a CT label of a cell"):
        b.render("y", 0.5, "module_porosity", np.random.default_rng(0))
    with pytest.raises(InputError, match="--engine must be one of draw, physics, got 'raytrace'") as exc:
        load_config(engine="raytrace")
    assert "\n" not in str(exc.value)
    assert load_config(engine="physics").to_dict()["engine"] == "physics"
    assert load_config().engine == "draw"


def test_generate_tiny_physics_dataset(tmp_path: Path) -> None:
    cfg = load_config(
        engine="physics", modality="ct", batteries=4, size=64, ct_per_battery=3, workers=0, seed=2
    )
    df = generate(cfg, tmp_path)
    m = read_manifest(tmp_path)
    assert len(m) == len(df) == 12
    assert set(m["engine"]) == {"physics"}
    assert set(m["modality"]) == {"ct"}
    assert json.loads((tmp_path / "synth_config.json").read_text())["engine"] == "physics"
    for row in m.itertuples():
        img = cv2.imread(str(tmp_path / row.image_path), cv2.IMREAD_UNCHANGED)
        assert img.shape == (64, 64) and img.dtype == np.uint16
        if row.is_defect:
            assert cv2.imread(str(tmp_path / row.mask_path), cv2.IMREAD_UNCHANGED).any()


def test_cli_engine_flag(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from inspector.cli import main

    args = ["synth", "--out", str(tmp_path / "d"), "--size", "64", "--batteries", "2", "--modality", "ct"]
    assert main([*args, "--ct-per-battery", "2", "--workers", "0", "--engine", "physics"]) == 0
    assert set(read_manifest(tmp_path / "d")["engine"]) == {"physics"}
    with pytest.raises(SystemExit):
        main([*args, "--engine", "raytrace"])
    assert "invalid choice: 'raytrace'" in capsys.readouterr().err
