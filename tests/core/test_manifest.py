"""Manifest validation: every broken manifest fails with one sentence naming the line."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.manifest import COLUMNS, CT_LABELS, RGB_LABELS, read_manifest, write_manifest


@pytest.fixture()
def dataset(tiny_dataset: Path, tmp_path: Path) -> Path:
    """A private, editable copy of the tiny dataset."""
    root = tmp_path / "d"
    shutil.copytree(tiny_dataset, root)
    return root


def _edit(root: Path, fn) -> None:
    df = pd.read_csv(root / "manifest.csv", dtype=str, keep_default_na=False)
    fn(df)
    df.to_csv(root / "manifest.csv", index=False)


def _error(root: Path) -> str:
    with pytest.raises(InputError) as info:
        read_manifest(root)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_label_order_is_fixed() -> None:
    assert CT_LABELS == (
        "cell_normal",
        "cell_porosity",
        "module_normal",
        "module_porosity",
        "module_resin_overflow",
    )
    assert RGB_LABELS == ("normal", "pollution", "scratch", "damage")


def test_valid_manifest_reads_typed(tiny_dataset: Path) -> None:
    df = read_manifest(tiny_dataset)
    assert list(df.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert df["is_defect"].dtype.kind == "i" and df["slice_index"].dtype.kind == "i"
    assert all(isinstance(b, list) for b in df["boxes"])
    assert df.attrs["root"] == str(tiny_dataset)


def test_missing_image_names_the_line(dataset: Path) -> None:
    df = pd.read_csv(dataset / "manifest.csv", dtype=str, keep_default_na=False)
    (dataset / df.loc[3, "image_path"]).unlink()
    message = _error(dataset)
    assert "line 5" in message and "does not exist" in message


def test_missing_mask_file(dataset: Path) -> None:
    df = pd.read_csv(dataset / "manifest.csv", dtype=str, keep_default_na=False)
    i = int(np.flatnonzero(df["mask_path"] != "")[0])
    (dataset / df.loc[i, "mask_path"]).unlink()
    assert f"line {i + 2}" in _error(dataset)


def test_unknown_label(dataset: Path) -> None:
    _edit(dataset, lambda df: df.__setitem__("label", df["label"].where(df.index != 0, "cell_bubble")))
    message = _error(dataset)
    assert "line 2" in message and "cell_bubble" in message


def test_battery_in_two_splits(dataset: Path) -> None:
    def leak(df: pd.DataFrame) -> None:
        bid = df.loc[df["split"] == "train", "battery_id"].iloc[0]
        i = df.index[df["battery_id"] == bid][-1]
        df.loc[i, "split"] = "test"

    _edit(dataset, leak)
    message = _error(dataset)
    assert "appears in several splits" in message and "line" in message


def test_mask_size_mismatch(dataset: Path) -> None:
    df = pd.read_csv(dataset / "manifest.csv", dtype=str, keep_default_na=False)
    i = int(np.flatnonzero(df["mask_path"] != "")[0])
    cv2.imwrite(str(dataset / df.loc[i, "mask_path"]), np.zeros((10, 12), np.uint8))
    message = _error(dataset)
    assert f"line {i + 2}" in message and "12x10" in message


def test_missing_columns(dataset: Path) -> None:
    _edit(dataset, lambda df: df.drop(columns=["battery_id", "split"], inplace=True))
    message = _error(dataset)
    assert "battery_id" in message and "split" in message


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("is_defect", "1", "contradicts"),
        ("modality", "xray", "modality"),
        ("battery_type", "pack", "battery_type"),
        ("boxes", "[[1, 2, 3]]", "boxes"),
        ("split", "holdout", "split"),
    ],
)
def test_bad_values(dataset: Path, column: str, value: str, needle: str) -> None:
    def edit(df: pd.DataFrame) -> None:
        i = int(np.flatnonzero(df["is_defect"] == "0")[0])
        df.loc[i, column] = value

    _edit(dataset, edit)
    assert needle in _error(dataset)


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no manifest.csv"):
        read_manifest(tmp_path)


def test_write_then_read_round_trip(tiny_dataset: Path, tmp_path: Path) -> None:
    df = read_manifest(tiny_dataset)
    root = tmp_path / "copy"
    shutil.copytree(tiny_dataset, root)
    write_manifest(df, root)
    again = read_manifest(root)
    assert again["boxes"].tolist() == df["boxes"].tolist()
    assert again["label"].tolist() == df["label"].tolist()


def test_shipped_assets_are_a_valid_dataset_with_every_label() -> None:
    assets = Path(__file__).resolve().parents[2] / "assets"
    df = read_manifest(assets)
    assert set(df.loc[df.modality == "ct", "label"]) == set(CT_LABELS)
    assert set(df.loc[df.modality == "rgb", "label"]) == set(RGB_LABELS)
    assert set(df.loc[df.modality == "ct", "axis"]) == {"x", "y"}


def test_export_samples(tiny_dataset: Path, tmp_path: Path) -> None:
    from training.synth.samples import export_samples

    rows = export_samples(tiny_dataset, tmp_path / "assets", per_class=1)
    df = read_manifest(tmp_path / "assets")
    assert len(df) == len(rows) == len(CT_LABELS) + len(RGB_LABELS)
    assert all(p.count("/") == 1 for p in df["image_path"])


def test_validate_command(tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from core.manifest import main

    assert main([str(tiny_dataset)]) == 0
    assert "valid" in capsys.readouterr().out
    assert main([str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: no manifest.csv")


def test_the_old_training_manifest_command_still_validates(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "training.manifest", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "no manifest.csv" in result.stderr + result.stdout
