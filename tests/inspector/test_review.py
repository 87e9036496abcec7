"""Tests for inspector.review: image checks, feature density, metadata and margin reasons."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from core.checkpoint import load_checkpoint, save_checkpoint
from core.imageio import DecodedImage
from inspector.review import (
    FeatureDensity,
    ReviewPolicy,
    capture_features,
    image_quality_reasons,
    metadata_reasons,
    model_review_reasons,
    split_review_state,
)

POLICY = ReviewPolicy()


def _ct_like(size: int = 128, seed: int = 0) -> np.ndarray:
    """A smooth disc with layers and mild noise: what a reconstructed slice looks like."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] - size / 2
    r = np.hypot(yy, xx)
    img = np.where(r < size * 0.4, 0.5 + 0.2 * np.sin(r / 2.0), 0.05)
    return np.clip(img + rng.normal(0, 0.03, img.shape), 0, 1).astype(np.float32)


def test_clean_slice_has_no_image_reasons() -> None:
    assert image_quality_reasons(_ct_like(), POLICY) == []


@pytest.mark.parametrize("value", [0.0, 1.0, 0.5])
def test_blank_images_are_flagged(value: float) -> None:
    assert image_quality_reasons(np.full((64, 64), value, np.float32), POLICY) == ["ct_blank_image"]


def test_white_noise_is_flagged_as_noise() -> None:
    noise = np.random.default_rng(1).random((128, 128)).astype(np.float32)
    assert "ct_noise_like" in image_quality_reasons(noise, POLICY)


def test_colour_and_nonfinite_come_from_decoding_info() -> None:
    image = DecodedImage(_ct_like(), {"colour": 0.2, "nonfinite_fraction": 0.1})
    reasons = image_quality_reasons(image, POLICY, image.info)
    assert "ct_colour_photo" in reasons and "ct_nonfinite_pixels" in reasons
    grey = DecodedImage(_ct_like(), {"colour": 0.0, "nonfinite_fraction": 0.0})
    assert image_quality_reasons(grey, POLICY, grey.info) == []


def test_rgb_blank_uses_rgb_prefix() -> None:
    assert image_quality_reasons(np.zeros((32, 32, 3), np.uint8), POLICY, prefix="rgb") == ["rgb_blank_image"]


def test_metadata_contradiction_only_when_sure() -> None:
    sure_cell = {"cell_normal": 0.97, "cell_porosity": 0.02, "module_normal": 0.01}
    assert metadata_reasons(sure_cell, "module", POLICY) == ["ct_metadata_contradiction"]
    assert metadata_reasons(sure_cell, "cell", POLICY) == []
    unsure = {"cell_normal": 0.6, "module_normal": 0.4}
    assert metadata_reasons(unsure, "module", POLICY) == []
    assert metadata_reasons(sure_cell, None, POLICY) == []


def test_model_reasons_margin_ood_and_meta_models() -> None:
    probs = {"cell_normal": 0.98, "module_normal": 0.02}
    assert model_review_reasons(probs, 0.02, 0.5, 0.5, 1.0, POLICY, False, "cell") == []
    assert model_review_reasons(probs, 0.45, 0.5, 0.5, 1.0, POLICY, False, "cell") == ["ct_low_margin"]
    assert model_review_reasons(probs, 0.02, 0.5, 2.0, 1.0, POLICY, False, "cell") == ["ct_out_of_distribution"]
    # a model that reads the metadata is never said to contradict it
    assert model_review_reasons(probs, 0.02, 0.5, None, 1.0, POLICY, True, "module") == []
    assert model_review_reasons(probs, 0.02, 0.5, None, 1.0, POLICY, False, "module") == ["ct_metadata_contradiction"]


def test_feature_density_scores_far_points_higher_and_round_trips(tmp_path) -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (200, 8))
    b = rng.normal(5, 1, (200, 8))
    density = FeatureDensity.fit(np.concatenate([a, b]), np.array([0] * 200 + [1] * 200))
    near = density.score(rng.normal(0, 1, (50, 8)))
    far = density.score(rng.normal(20, 1, (50, 8)))
    assert far.min() > 10 * near.max() / 2 and np.median(near) < 2.0
    density.threshold = 3.0
    save_checkpoint({"w": torch.ones(2), **density.state_dict()}, tmp_path / "m", {"task": "ct"}, fp16=True)
    state, _ = load_checkpoint(tmp_path / "m")
    weights, review = split_review_state(state)
    assert set(weights) == {"w"} and weights["w"].dtype == torch.float16
    assert review["review.precision"].dtype == torch.float32  # never halved
    again = FeatureDensity.from_state(review, 3.0)
    np.testing.assert_allclose(again.score(b[:5]), density.score(b[:5]), rtol=1e-4)
    assert FeatureDensity.from_state({}, 3.0) is None


def test_capture_features_records_input_of_last_linear() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x = torch.randn(5, 4)
    with capture_features(model) as seen:
        model(x)
    expected = torch.relu(model[1](x))
    torch.testing.assert_close(seen.features, expected)
    model(x)  # hook removed: nothing more is recorded
    assert seen._handle is not None and not model[3]._forward_pre_hooks


# --- RGB side (issue 14): blank, noise, CT-as-RGB, feature distance --------------------------------


def _synth_photos(root, n: int = 6) -> list[np.ndarray]:
    from core.imageio import load_image
    from core.manifest import read_manifest

    frame = read_manifest(root, check_files=False)
    rows = frame[frame["modality"] == "rgb"].head(n)
    return [load_image(root / p, "rgb") for p in rows["image_path"]]


def test_rgb_checks_pass_normal_synth_photos(tiny_dataset) -> None:
    photos = _synth_photos(tiny_dataset)
    assert photos and all(image_quality_reasons(p, POLICY, prefix="rgb") == [] for p in photos)


def test_rgb_blank_noise_and_ct_as_rgb_are_flagged(tiny_dataset) -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    ct = (np.repeat(_ct_like(96)[..., None], 3, axis=2) * 255).astype(np.uint8)  # a CT slice saved as RGB
    assert image_quality_reasons(np.full((96, 96, 3), 200, np.uint8), POLICY, prefix="rgb") == ["rgb_blank_image"]
    assert "rgb_noise_like" in image_quality_reasons(noise, POLICY, prefix="rgb")
    assert image_quality_reasons(ct, POLICY, prefix="rgb") == ["rgb_grey_image"]


def test_rgb_ood_score_is_in_units_of_the_normal_spread() -> None:
    from inspector.review import rgb_ood_score

    stats = {"normal_mean_p50": 1.0, "normal_mean_p99": 1.5, "limit": 3.0}
    assert rgb_ood_score(1.5, stats) == pytest.approx(1.0)
    assert rgb_ood_score(4.0, stats) == pytest.approx(6.0)
    assert rgb_ood_score(4.0, None) is None
