"""RGB style presets: ``flat`` is byte-for-byte the original generator, photoreal datasets
follow the manifest contract, and bad style arguments fail with one line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import InputError
from core.manifest import RGB_LABELS, read_manifest
from inspector.cli import main
from training.synth import generate, load_config
from training.synth.rgb_styles import RGB_STYLES, create_rgb_battery, resolve_stations

# sha256 of the flat RGB dataset below, generated before photoreal styles existed.
FLAT_DIGEST = "1919c09f356267152f9a1f61e0779a23a63c21428dd00e2f16d700e30fb6e82a"
FLAT = dict(seed=11, size=64, batteries=6, modality="rgb", rgb_per_battery=3, workers=0)
PHOTOREAL = dict(size=64, batteries=8, modality="rgb", rgb_per_battery=3, workers=0)


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.png")) + [root / "manifest.csv"]:
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def test_flat_style_is_the_original_output_byte_for_byte(tmp_path: Path) -> None:
    generate(load_config(**FLAT), tmp_path / "default")
    generate(load_config(rgb_style="flat", **FLAT), tmp_path / "flat")
    assert _digest(tmp_path / "default") == FLAT_DIGEST
    assert _digest(tmp_path / "flat") == FLAT_DIGEST


def test_photoreal_dataset_follows_the_contract_and_is_reproducible(tmp_path: Path) -> None:
    generate(load_config(seed=2, rgb_style="photoreal", **PHOTOREAL), tmp_path / "a")
    generate(load_config(seed=2, rgb_style="photoreal", **{**PHOTOREAL, "workers": 2}), tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    df = read_manifest(tmp_path / "a")
    assert set(df["label"]) <= set(RGB_LABELS) and (df["label"] != "normal").any()
    assert set(df["rgb_style"]) == {"photoreal"}
    assert set(df["rgb_station"]) <= set(RGB_STYLES["photoreal"].stations)
    for row in df[df.is_defect == 1].itertuples():
        mask = cv2.imread(str(tmp_path / "a" / row.mask_path), cv2.IMREAD_GRAYSCALE)
        assert set(np.unique(mask)) <= {0, 255} and mask.any() and row.boxes != "[]"
    assert (df.loc[df.is_defect == 0, "mask_path"] == "").all()


def test_holdout_style_and_station_subset(tmp_path: Path) -> None:
    generate(load_config(seed=2, rgb_style="photoreal_holdout", **PHOTOREAL), tmp_path / "h")
    held = read_manifest(tmp_path / "h")
    assert set(held["rgb_station"]) <= set(RGB_STYLES["photoreal_holdout"].stations)
    assert set(held["rgb_station"]).isdisjoint(RGB_STYLES["photoreal"].stations)
    generate(
        load_config(seed=2, rgb_style="photoreal_all", rgb_stations=["wood"], **PHOTOREAL), tmp_path / "w"
    )
    assert set(read_manifest(tmp_path / "w")["rgb_station"]) == {"wood"}


def test_every_style_renders_both_battery_types() -> None:
    for style in RGB_STYLES:
        for battery_type in ("cell", "module"):
            battery = create_rgb_battery(style, None, battery_type, 64, np.random.default_rng(0))
            img, mask = battery.render("scratch", np.random.default_rng(1))
            assert img.shape == (64, 64, 3) and img.dtype == np.uint8
            assert mask.dtype == np.uint8 and mask.any()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--rgb-style", "glossy"], "--rgb-style"),
        (["--rgb-style", "photoreal", "--rgb-stations", "moon"], "moon"),
        (["--rgb-stations", "tray"], "--rgb-stations"),
    ],
)
def test_bad_style_arguments_fail_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], needle: str
) -> None:
    assert main(["synth", "--out", str(tmp_path / "d"), "--modality", "rgb", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and needle in err and "\n" not in err
    assert not (tmp_path / "d" / "manifest.csv").exists()


def test_bad_style_settings_in_code_raise_input_error() -> None:
    with pytest.raises(InputError, match="rgb_stations"):
        load_config(rgb_style="photoreal", rgb_stations="tray")
    with pytest.raises(InputError, match="--rgb-style"):
        resolve_stations("nope", None)
    assert resolve_stations("photoreal", ["tray"]) == ("tray",)
