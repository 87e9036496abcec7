"""The synthetic dataset generator: CLI, determinism, proportions, splits, shortcut statistics."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.manifest import CT_LABELS, RGB_LABELS, read_manifest
from inspector.cli import main
from training.synth import generate, load_config
from training.synth.plan import make_plan

TINY = dict(size=64, batteries=10, ct_per_battery=4, rgb_per_battery=2, workers=0)


def _plan_frame(**kwargs) -> pd.DataFrame:
    cfg = load_config(**kwargs)
    return pd.DataFrame(
        [
            {"battery_id": b.battery_id, "battery_type": b.battery_type, "split": b.split, **vars(im)}
            for b in make_plan(cfg)
            for im in b.images
        ]
    )


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.png")) + [root / "manifest.csv"]:
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def test_cli_writes_valid_dataset_with_every_label(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "d"
    assert (
        main(
            [
                "synth",
                "--out",
                str(out),
                "--seed",
                "1",
                "--size",
                "64",
                "--batteries",
                "12",
                "--ct-per-battery",
                "5",
                "--rgb-per-battery",
                "3",
                "--workers",
                "0",
            ]
        )
        == 0
    )
    assert "images in" in capsys.readouterr().out
    df = read_manifest(out)
    assert set(df.loc[df.modality == "ct", "label"]) == set(CT_LABELS)
    assert set(df.loc[df.modality == "rgb", "label"]) == set(RGB_LABELS)
    assert set(df["split"]) == {"train", "val", "test"}  # no test_shift without --shortcut
    assert (df["stamp"] == 0).all()


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    generate(load_config(seed=5, **TINY), tmp_path / "a")
    generate(load_config(seed=5, **{**TINY, "workers": 2}), tmp_path / "b")  # worker count must not matter
    generate(load_config(seed=6, **TINY), tmp_path / "c")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_ct_images_are_16_bit_and_masks_binary(tiny_dataset: Path) -> None:
    import cv2

    df = read_manifest(tiny_dataset)
    ct = df[df.modality == "ct"].iloc[0]
    assert cv2.imread(str(tiny_dataset / ct.image_path), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    rgb = df[df.modality == "rgb"].iloc[0]
    assert cv2.imread(str(tiny_dataset / rgb.image_path), cv2.IMREAD_UNCHANGED).shape == (64, 64, 3)
    for row in df[df.is_defect == 1].head(20).itertuples():
        mask = cv2.imread(str(tiny_dataset / row.mask_path), cv2.IMREAD_UNCHANGED)
        assert set(np.unique(mask)) <= {0, 255} and mask.any()
        assert row.boxes, "every defect has at least one box"
    assert (df.loc[df.is_defect == 0, "mask_path"] == "").all()


def test_default_proportions_close_to_config_and_every_split_has_every_class() -> None:
    df = _plan_frame()  # the default dataset, planned without rendering
    cfg = load_config()
    ct = df[df.modality == "ct"]
    assert 2500 <= len(ct) <= 3500
    rgb = df[df.modality == "rgb"]
    assert 800 <= len(rgb) <= 1200
    assert 0.30 <= (rgb.label != "normal").mean() <= 0.40
    share = ct["label"].value_counts(normalize=True)
    for label, target in cfg.ct_proportions.items():
        assert share[label] == pytest.approx(target, abs=0.02), label
    for split, part in df.groupby("split"):
        assert set(part.loc[part.modality == "ct", "label"]) == set(CT_LABELS), split
        assert set(part.loc[part.modality == "rgb", "label"]) == set(RGB_LABELS), split


def test_splits_never_share_a_battery_and_pairs_match_batteries() -> None:
    df = _plan_frame(shortcut=0.9)
    assert (df.groupby("battery_id")["split"].nunique() == 1).all()
    pairs = df[df.pair_id != ""].groupby("pair_id")
    assert (pairs.size() == 2).all()
    assert (pairs["modality"].nunique() == 2).all() and (pairs["battery_id"].nunique() == 1).all()
    types = df.groupby("battery_id")["battery_type"].first()
    ct = df[df.modality == "ct"]
    assert (ct["label"].str.split("_").str[0] == ct["battery_id"].map(types)).all()


def test_shortcut_stamp_statistics_per_split() -> None:
    df = _plan_frame(shortcut=0.9, modality="ct")
    df["defect"] = df["mask_path"] != ""
    rate = df.groupby(["split", "defect"])["stamp"].mean()
    for split in ("train", "val", "test"):
        assert rate[(split, True)] == pytest.approx(0.9, abs=0.06), split
        assert rate[(split, False)] == pytest.approx(0.1, abs=0.06), split
    shift = df[df.split == "test_shift"]
    assert not set(shift.battery_id) & set(df.loc[df.split != "test_shift", "battery_id"])
    assert rate[("test_shift", True)] == pytest.approx(0.5, abs=0.12)
    assert rate[("test_shift", False)] == pytest.approx(0.5, abs=0.12)
    # independence: the stamp says (almost) nothing about the label in test_shift
    assert abs(rate[("test_shift", True)] - rate[("test_shift", False)]) < 0.15


def test_no_shortcut_means_no_stamp(tiny_dataset: Path) -> None:
    assert (read_manifest(tiny_dataset)["stamp"] == 0).all()


def test_shortcut_dataset_fixture(tiny_shortcut_dataset: Path) -> None:
    df = read_manifest(tiny_shortcut_dataset)
    assert set(df["modality"]) == {"ct"}
    assert "test_shift" in set(df["split"]) and df["stamp"].any()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--batteries", "-3"], "--batteries"),
        (["--seed", "-1"], "--seed"),
        (["--size", "32"], "--size"),
        (["--shortcut", "1.5"], "--shortcut"),
        (["--ct-per-battery", "-1"], "per battery"),
        (["--ct-proportions", "cell_normal=1,bogus=2"], "bogus"),
        (["--ct-proportions", "cell_normal"], "--ct-proportions"),
    ],
)
def test_bad_arguments_fail_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], needle: str
) -> None:
    assert main(["synth", "--out", str(tmp_path / "d"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and needle in err and "\n" not in err
    assert not (tmp_path / "d" / "manifest.csv").exists()


def test_unwritable_or_foreign_out_dir_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert main(["synth", "--out", str(target), "--size", "64"]) == 2
    assert "not a folder" in capsys.readouterr().err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert main(["synth", "--out", str(foreign), "--size", "64"]) == 2
    assert (foreign / "notes.txt").exists()
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not _can_write(locked):  # (root ignores permissions: nothing to test then)
            assert main(["synth", "--out", str(locked / "sub"), "--size", "64"]) == 2
            assert "not writable" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def _can_write(folder: Path) -> bool:
    try:
        (folder / ".probe").write_text("")
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True  # running as root: permissions do not apply


def test_preview_contact_sheet(tiny_dataset: Path, tmp_path: Path) -> None:
    import cv2

    from training.synth.preview import contact_sheet

    out = contact_sheet(tiny_dataset, tmp_path / "sheet.png", per_class=2, tile=48)
    sheet = cv2.imread(str(out))
    assert sheet.shape[0] == 48 * (len(CT_LABELS) + len(RGB_LABELS))
