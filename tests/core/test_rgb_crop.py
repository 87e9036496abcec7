"""Tests for core.preprocessing.rgb_crop and the detector's crop: where the battery is in a photo."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from core.preprocessing import RGBCrop, battery_box
from inspector.anomaly import AnomalyDetector, ScoreConfig


def _photo(seed: int = 0, box: tuple[int, int, int, int] = (90, 60, 70, 140), size: int = 256) -> np.ndarray:
    """A blurred, noisy coloured background with a battery: a casing, a label and a cap line."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 15, (size // 32, size // 32, 3))  # smooth, as photo backgrounds out of focus are
    background = cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC) + [70, 90, 140]
    image = np.clip(background, 0, 255).astype(np.uint8)
    x, y, w, h = box
    cv2.rectangle(image, (x, y), (x + w - 1, y + h - 1), (20, 60, 180), -1)
    cv2.rectangle(image, (x, y + h // 3), (x + w - 1, y + h // 2), (235, 235, 235), -1)
    cv2.line(image, (x, y + 8), (x + w - 1, y + 8), (200, 200, 200), 2)
    return image


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih / (aw * ah + bw * bh - iw * ih)


@pytest.mark.parametrize("seed,box", [(0, (90, 60, 70, 140)), (1, (30, 100, 180, 60)), (2, (150, 20, 60, 60))])
def test_battery_box_finds_the_battery_on_a_noisy_background(seed, box):
    assert _iou(battery_box(_photo(seed, box)), box) > 0.85


def test_battery_box_of_a_featureless_photo_is_the_whole_photo():
    assert battery_box(np.full((40, 60, 3), 128, np.uint8)) == (0, 0, 60, 40)


def test_rgb_crop_view_window_and_region():
    box = (90, 60, 70, 140)
    view, window, region = RGBCrop(64, margin=0.1)(_photo(0, box))
    assert view.shape == (64, 64, 3) and view.dtype == np.uint8 and region.shape == (64, 64)
    x0, y0, side = window
    assert side >= 140 and x0 <= 90 and y0 <= 60
    # the battery is tall: the region fills the view's height but not its width
    assert region[:, 32].mean() > 0.75 and 0.3 < region[32].mean() < 0.7


def test_rgb_crop_card_round_trip_and_old_cards():
    crop = RGBCrop(128, margin=0.05)
    assert RGBCrop.from_card({"preprocessing": crop.to_card()}, 128) == crop
    old = RGBCrop.from_card({}, 128)
    assert not old.enabled
    view, window, region = old(np.zeros((30, 50, 3), np.uint8))
    assert view.shape == (128, 128, 3) and window == (0, 0, 50) and region.min() == 1.0


class _RedIsAnomalous(torch.nn.Module):
    """A stand-in anomaly model: the anomaly map is how much redder than green/blue a pixel is."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def anomaly_map(self, x: torch.Tensor) -> torch.Tensor:
        return (x[:, 0] - x[:, 1:].mean(dim=1)).clamp(min=0)


def test_detector_with_crop_maps_the_error_back_to_the_photo():
    image = _photo(3, (90, 60, 70, 140))
    image[150:156, 120:126] = (255, 0, 0)  # a red stain on the battery
    detector = AnomalyDetector(
        _RedIsAnomalous(), ScoreConfig(method="topk", topk_fraction=0.001, smooth_sigma=0.0),
        threshold=0.3, input_size=64, crop=RGBCrop(64),
    )  # fmt: skip
    out = detector.predict(image)
    assert out["error_map"].shape == image.shape[:2]
    y, x = np.unravel_index(int(np.argmax(out["error_map"])), image.shape[:2])
    assert 146 <= y <= 160 and 116 <= x <= 130
    assert out["is_defect"]


def test_detector_refuses_a_crop_of_another_size():
    with pytest.raises(ValueError):
        AnomalyDetector(_RedIsAnomalous(), ScoreConfig(), threshold=0.5, input_size=64, crop=RGBCrop(32))
