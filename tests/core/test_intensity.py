"""Tests for core.preprocessing.intensity."""

from __future__ import annotations

import numpy as np
import pytest

from core.preprocessing import normalise_intensity, percentile_window


def test_percentile_window_is_invariant_to_linear_rescaling() -> None:
    rng = np.random.default_rng(0)
    image = rng.random((64, 64)).astype(np.float32)
    a = percentile_window(image)
    b = percentile_window(image * 0.3 + 0.1)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert a.min() == 0.0 and a.max() == 1.0


def test_flat_and_nonfinite_images() -> None:
    assert not percentile_window(np.full((8, 8), 0.7, np.float32)).any()
    image = np.zeros((8, 8), np.float32)
    image[0, 0] = np.nan
    image[4:, :] = 1.0
    out = percentile_window(image)
    assert np.isfinite(out).all()


def test_modes() -> None:
    image = np.linspace(0.2, 0.4, 100, dtype=np.float32).reshape(10, 10)
    assert normalise_intensity(image, None) is image and normalise_intensity(image, "none") is image
    assert normalise_intensity(image, "percentile").max() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown intensity mode"):
        normalise_intensity(image, "histogram")
