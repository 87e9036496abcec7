"""CT/RGB datasets, metadata encoding, battery-grouped splitting and class balancing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader

from core.errors import InputError
from core.manifest import CT_LABELS, RGB_LABELS, read_manifest
from training.datasets import CTDataset, RGBDataset, encode_meta
from training.samplers import class_weights, make_weighted_sampler
from training.splits import assign_splits
from training.transforms import default_transforms


def test_ct_sample_dict(tiny_dataset: Path) -> None:
    ds = CTDataset(tiny_dataset, "train")
    defect = next(i for i in range(len(ds)) if ds.records.loc[i, "is_defect"])
    s = ds[defect]
    assert s["image"].shape == (1, 64, 64) and s["image"].dtype == torch.float32
    assert 0.0 <= float(s["image"].min()) and float(s["image"].max()) <= 1.0
    assert s["mask"].shape == (1, 64, 64) and set(s["mask"].unique().tolist()) <= {0.0, 1.0}
    assert s["mask"].sum() > 0 and s["is_defect"] == 1
    assert CT_LABELS[s["label"]] == ds.records.loc[defect, "label"]
    row = ds.records.loc[defect]
    assert s["meta"].tolist() == encode_meta(row["battery_type"], row["axis"]).tolist()
    assert s["path"].endswith(row["image_path"])


def test_rgb_sample_dict_and_batching(tiny_dataset: Path) -> None:
    ds = RGBDataset(tiny_dataset, ["val", "test"], transform=default_transforms("rgb", 32, train=False))
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert batch["image"].shape == (4, 3, 32, 32) and batch["mask"].shape == (4, 1, 32, 32)
    assert "meta" not in batch
    assert set(ds.records["split"]) == {"val", "test"}
    assert all(0 <= t < len(RGB_LABELS) for t in ds.targets)


def test_encode_meta() -> None:
    assert encode_meta("cell", "x").tolist() == [0.0, 0.0]
    assert encode_meta("module", "y").tolist() == [1.0, 1.0]
    with pytest.raises(InputError):
        encode_meta("pack", "y")


def test_missing_split_is_a_clear_error(tiny_dataset: Path) -> None:
    with pytest.raises(InputError, match="test_shift"):
        CTDataset(tiny_dataset, "test_shift")


def test_weighted_sampler_balances_classes() -> None:
    targets = [0] * 900 + [1] * 90 + [2] * 10
    sampler = make_weighted_sampler(targets, num_samples=6000, generator=torch.Generator().manual_seed(0))
    counts = Counter(targets[i] for i in sampler)
    assert all(abs(counts[c] / 6000 - 1 / 3) < 0.04 for c in range(3))
    w = class_weights(targets, 4)
    assert w[2] > w[1] > w[0] and w[3] == 0


def test_assign_splits_groups_batteries_and_spreads_rare_labels(tiny_dataset: Path) -> None:
    df = read_manifest(tiny_dataset).assign(split="")
    out = assign_splits(df, seed=1)
    assert (out.groupby("battery_id")["split"].nunique() == 1).all()
    assert set(out["split"]) == {"train", "val", "test"}
    sizes = out.groupby("split")["battery_id"].nunique()
    assert sizes["train"] > sizes["val"] and sizes["train"] > sizes["test"]


def test_assign_splits_rare_class_reaches_every_split() -> None:
    rows = []
    for b in range(30):
        label = "module_resin_overflow" if b < 3 else ("module_porosity" if b % 2 else "module_normal")
        rows += [{"battery_id": f"b{b}", "label": label}] * 4
    out = assign_splits(pd.DataFrame(rows), seed=0)
    rare = out[out["label"] == "module_resin_overflow"]
    assert set(rare["split"]) == {"train", "val", "test"}


def test_user_manifest_without_splits(tiny_dataset: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "user"
    shutil.copytree(tiny_dataset, root)
    raw = pd.read_csv(root / "manifest.csv", dtype=str, keep_default_na=False)
    raw.assign(split="").drop(columns=["pair_id", "stamp"]).to_csv(root / "manifest.csv", index=False)
    with pytest.raises(InputError, match="split is empty"):
        read_manifest(root)
    df = assign_splits(read_manifest(root, require_split=False))
    ds = CTDataset(root, "train", manifest=df)
    assert len(ds) > 0 and np.isfinite(ds[0]["image"].numpy()).all()
    # without a manifest argument the dataset assigns the same battery-grouped splits itself
    auto = CTDataset(root, "train")
    assert auto.records["image_path"].tolist() == ds.records["image_path"].tolist()
