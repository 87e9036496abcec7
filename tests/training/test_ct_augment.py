"""Tests for training.ct_augment: scanner domain randomisation and the intensity transform."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import ConfigError
from training.ct_augment import IntensityWindow, ScannerAugment
from training.transforms import build_transforms


def _slice() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:96, 0:96] - 48
    image = np.where(np.hypot(yy, xx) < 40, 0.6, 0.05).astype(np.float32)
    mask = np.zeros_like(image)
    mask[40:46, 40:46] = 1.0
    image[mask > 0] = 0.05
    return image, mask


def test_scanner_changes_pixels_never_the_mask_and_stays_in_range() -> None:
    image, mask = _slice()
    augment = ScannerAugment(p=1.0, probabilities=(1, 1, 1, 1, 1, 1, 1, 1))
    torch.manual_seed(0)
    out, out_mask = augment(image, mask)
    assert out.dtype == np.float32 and out.shape == image.shape
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert np.abs(out - image).mean() > 0.01
    np.testing.assert_array_equal(out_mask, mask)
    # the void stays darker than the material around it (densities keep their order)
    assert out[41:45, 41:45].mean() < out[30:36, 30:36].mean()


def test_scanner_is_reproducible_under_torch_seed_and_off_at_p0() -> None:
    image, mask = _slice()
    augment = ScannerAugment(p=1.0)
    torch.manual_seed(3)
    a, _ = augment(image, mask)
    torch.manual_seed(3)
    b, _ = augment(image, mask)
    np.testing.assert_array_equal(a, b)
    same, _ = ScannerAugment(p=0.0)(image, mask)
    assert same is image


def test_scanner_and_intensity_build_from_config_for_ct() -> None:
    compose = build_transforms([{"name": "scanner", "p": 0.5}, {"name": "intensity", "mode": "percentile"}], "ct")
    names = [type(t).__name__ for t in compose.transforms]
    assert names == ["ScannerAugment", "IntensityWindow"]
    with pytest.raises(ValueError, match="8 values"):
        ScannerAugment(probabilities=(1, 1))
    with pytest.raises((ValueError, ConfigError)):
        IntensityWindow(mode="histogram")
