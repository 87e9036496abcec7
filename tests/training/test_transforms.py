"""Paired transforms move masks with images; the CT policy; the battery-outline crop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import ConfigError
from core.preprocessing import OutlineCrop
from training.synth.ct import create_battery
from training.synth.stamp import apply_stamp
from training.transforms import (
    BatteryOutlineCrop,
    RandomAffine,
    RandomFlip,
    Resize,
    build_transforms,
    default_transforms,
)


def _marked(size: int = 64, channels: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An image whose bright pixels are exactly the mask."""
    mask = np.zeros((size, size), np.float32)
    mask[10:20, 30:45] = 1.0
    mask[40:44, 5:9] = 1.0
    image = mask.copy()
    return (np.repeat(image[..., None], channels, 2) if channels else image), mask


@pytest.mark.parametrize("channels", [0, 3])
@pytest.mark.parametrize(
    "transform",
    [
        RandomFlip(p_h=1.0, p_v=1.0),
        RandomAffine(degrees=40, translate=0.1, scale=(0.8, 1.2)),
        RandomAffine(degrees=90, translate=0.0, scale=(1.0, 1.0)),
    ],
)
def test_geometric_transforms_move_the_mask_with_the_image(transform, channels: int) -> None:
    torch.manual_seed(0)
    for _ in range(5):
        image, mask = _marked(channels=channels)
        out_image, out_mask = transform(image, mask)
        grey = out_image if out_image.ndim == 2 else out_image.mean(axis=2)
        bright = grey > 0.5
        assert out_mask.any()
        agreement = (bright == (out_mask > 0.5)).mean()
        assert agreement > 0.99
        assert out_image.shape == image.shape and out_mask.shape == mask.shape


def test_resize_keeps_small_defects() -> None:
    mask = np.zeros((256, 256), np.float32)
    mask[100:103, 50:53] = 1.0  # a 3 px void
    image = 1.0 - 0.5 * mask
    out_image, out_mask = Resize(128)(image, mask)
    assert out_image.shape == (128, 128) and out_mask.sum() >= 1


def test_ct_policy_refuses_colour_jitter_and_blur() -> None:
    for name in ("color_jitter", "blur"):
        with pytest.raises(ConfigError, match="not allowed for CT"):
            build_transforms([{"name": name}], "ct")
        build_transforms([{"name": name}], "rgb")  # fine for photos
    with pytest.raises(ConfigError, match="unknown transform"):
        build_transforms([{"name": "mixup"}], "ct")
    with pytest.raises(ConfigError, match="bad arguments"):
        build_transforms([{"name": "flip", "nonsense": 1}], "ct")


def test_default_ct_pipeline_is_geometric_only() -> None:
    names = [type(t).__name__ for t in default_transforms("ct", 128, train=True, crop=True).transforms]
    assert names == ["BatteryOutlineCrop", "Resize", "RandomFlip", "RandomAffine"]
    assert [
        type(t).__name__ for t in default_transforms("ct", 128, train=True, geometric=False).transforms
    ] == ["Resize"]


@pytest.mark.parametrize("battery_type", ["cell", "module"])
def test_outline_crop_removes_the_stamp_and_keeps_the_defect(battery_type: str) -> None:
    for i in range(4):
        rng = np.random.default_rng(i)
        battery = create_battery(battery_type, 256, rng)
        image, mask = battery.render("yx"[i % 2], 0.5, f"{battery_type}_porosity", rng)
        apply_stamp(image, rng)
        mask = (mask > 0).astype(np.float32)
        crop_image, crop_mask = BatteryOutlineCrop()(image, mask)
        assert crop_image.shape[0] == crop_image.shape[1] < 256 * 0.95
        assert crop_mask.sum() == mask.sum()  # the whole defect survives the crop
        corners = [crop_image[:12, :12], crop_image[:12, -12:], crop_image[-12:, :12], crop_image[-12:, -12:]]
        assert max(float(c.max()) for c in corners) < 0.6  # no bright stamp text left in the corners


def test_outline_crop_window_maps_output_pixels_back_to_the_input() -> None:
    rng = np.random.default_rng(7)
    image, _ = create_battery("cell", 256, rng).render("x", 0.5, "cell_normal", rng)
    crop = OutlineCrop()
    x0, y0, side, (kx0, ky0, kx1, ky1) = crop.window(image)
    out, _ = crop.crop_pair(image, np.zeros_like(image))
    assert out.shape == (side, side)
    np.testing.assert_array_equal(out[ky0 - y0 : ky1 - y0, kx0 - x0 : kx1 - x0], image[ky0:ky1, kx0:kx1])
    x, y, w, h = crop.bbox(image)
    assert kx0 <= x and ky0 <= y and kx1 >= x + w and ky1 >= y + h


def test_affine_fills_with_the_background_not_black() -> None:
    image = np.full((64, 64), 0.2, np.float32)
    image[20:40, 20:40] = 0.8
    torch.manual_seed(1)
    out, _ = RandomAffine(degrees=45, translate=0.0, scale=(0.7, 0.7))(image, np.zeros_like(image))
    assert out[0, 0] == pytest.approx(0.2) and out[-1, -1] == pytest.approx(0.2)
