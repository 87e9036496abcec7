"""Tests for training.tasks.rgb.backbone and the defect masks RGBImages hands it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open

from core.preprocessing import RGBCrop
from training.tasks.rgb.backbone import BackboneConfig, _jitter, train_backbone
from training.tasks.rgb.data import RGBImages

SIZE = 64


def _dihedral(array: np.ndarray) -> list[np.ndarray]:
    """The 8 quarter-turn/flip versions of an ``H x W (x C)`` array, in a fixed order."""
    out = []
    for turns in range(4):
        turned = np.rot90(array, turns)
        out += [turned, turned[::-1], turned[:, ::-1], turned[::-1, ::-1]]
    return out


def test_defect_photos_come_with_their_mask_and_normals_with_none(tiny_dataset):
    images = RGBImages(tiny_dataset, "train", RGBCrop(SIZE), masks=True)
    seen_defect = False
    for i in range(len(images)):
        item = images[i]
        assert item["mask"].shape == (1, SIZE, SIZE)
        if item["is_defect"]:
            seen_defect = seen_defect or bool(item["mask"].sum() > 0)
        else:
            assert float(item["mask"].sum()) == 0.0
    assert seen_defect, "no defect photo got a non-empty mask"
    assert "mask" not in RGBImages(tiny_dataset, "train", RGBCrop(SIZE))[0]


def test_augmentation_turns_the_mask_with_the_photo(tiny_dataset):
    plain = RGBImages(tiny_dataset, "train", RGBCrop(SIZE), masks=True)
    turned = RGBImages(tiny_dataset, "train", RGBCrop(SIZE), masks=True, rot90=True)
    index = next(i for i in range(len(plain)) if plain.is_defect[i] and plain[i]["mask"].sum() > 0)
    base = plain[index]
    image = base["image"].permute(1, 2, 0).numpy()
    torch.manual_seed(0)
    for _ in range(6):
        item = turned[index]
        candidates = _dihedral(image)
        match = [k for k, c in enumerate(candidates) if np.array_equal(c, item["image"].permute(1, 2, 0).numpy())]
        assert match, "the augmented photo is not a quarter turn/flip of the original"
        masks = _dihedral(base["mask"][0].numpy())
        assert any(np.array_equal(masks[k], item["mask"][0].numpy()) for k in match)


def test_jitter_keeps_photos_in_range_and_changes_colour():
    gen = torch.Generator().manual_seed(0)
    photos = torch.rand(4, 3, 8, 8, generator=gen)
    out = _jitter(photos, gen)
    assert out.shape == photos.shape and float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert not torch.allclose(out, photos)


@pytest.mark.parametrize("defect_masks", [False, True])
def test_backbone_run_writes_weights_card_and_held_out_metrics(tiny_dataset, tmp_path, defect_masks):
    cfg = BackboneConfig(input_size=SIZE, epochs=1, batch_size=8, defect_masks=defect_masks, colour_jitter=True)
    card = train_backbone([tiny_dataset], tmp_path / "bb", cfg)
    saved = json.loads((tmp_path / "bb.json").read_text())
    assert saved["metrics"]["epochs_run"] == 1 and saved["config"]["defect_masks"] is defect_masks
    assert card["metrics"]["val_corruption_auroc"] is None or 0.0 <= card["metrics"]["val_corruption_auroc"] <= 1.0
    assert ("val_defect_auroc_pixel_head" in card["metrics"]) is defect_masks
    assert set(saved["data_fingerprint"]) == {str(tiny_dataset)}
    with safe_open(str(tmp_path / "bb.safetensors"), "pt") as f:
        keys = list(f.keys())
    # the detectors read layer1-layer3: layer4 and the pretext heads are not shipped
    assert any(k.startswith("layer3.") for k in keys)
    assert not any(k.startswith(("layer4.", "fc.", "pixel.", "image.")) for k in keys)
