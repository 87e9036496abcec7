"""Tests for training.anomaly: error maps, scores, Youden's J threshold (known answers), guards."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from inspector.anomaly import (
    AnomalyDetector,
    ScoreConfig,
    anomaly_scores,
    defect_probability,
    error_map,
    gaussian_blur,
)
from training.anomaly import (
    CORRUPTIONS,
    MASK_LEVEL,
    CorruptionConfig,
    ThresholdError,
    binary_metrics,
    corrupt_batch,
    youden_threshold,
)


def test_error_map_mse_and_l1():
    image = torch.zeros(1, 3, 4, 4)
    recon = torch.zeros(1, 3, 4, 4)
    recon[0, 0, 1, 2] = 0.6  # one channel of one pixel off by 0.6
    mse = error_map(image, recon, "mse")
    assert mse.shape == (1, 4, 4)
    assert float(mse[0, 1, 2]) == pytest.approx(0.36 / 3)
    assert float(mse.sum()) == pytest.approx(0.36 / 3)
    assert float(error_map(image, recon, "l1")[0, 1, 2]) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        error_map(image, recon, "ssim")


def test_gaussian_blur_preserves_mass_and_constants():
    maps = torch.zeros(1, 21, 21)
    maps[0, 10, 10] = 1.0
    blurred = gaussian_blur(maps, sigma=1.5)
    assert float(blurred.sum()) == pytest.approx(1.0, abs=1e-5)  # interior peak: nothing leaks
    assert float(blurred.max()) < 0.2 and int(blurred[0].argmax()) == 10 * 21 + 10
    const = torch.full((2, 8, 8), 0.3)
    assert torch.allclose(gaussian_blur(const, 2.0), const)
    assert torch.equal(gaussian_blur(maps, 0.0), maps)


def test_mean_score_on_hand_made_map():
    maps = torch.zeros(2, 10, 10)
    maps[1, :5] = 1.0  # half the image at 1
    scores = anomaly_scores(maps, ScoreConfig(method="mean"))
    assert scores.tolist() == pytest.approx([0.0, 0.5])


def test_topk_score_sees_small_defect_that_mean_dilutes():
    maps = torch.full((2, 40, 40), 0.01)
    maps[1, 10:14, 10:14] = 1.0  # a 16-pixel defect (1 % of the image)
    mean = anomaly_scores(maps, ScoreConfig(method="mean"))
    topk = anomaly_scores(maps, ScoreConfig(method="topk", topk_fraction=0.01, smooth_sigma=0.0))
    assert topk.tolist() == pytest.approx([0.01, 1.0])  # top 16 pixels are exactly the defect
    assert float(topk[1] / topk[0]) > 10 * float(mean[1] / mean[0])


def test_topk_relative_ignores_a_uniformly_raised_map():
    # photo 0: unfamiliar everywhere (whole map at 0.6); photo 1: familiar with a small defect
    maps = torch.full((2, 40, 40), 0.6)
    maps[1] = 0.05
    maps[1, 10:14, 10:14] = 0.5
    plain = anomaly_scores(maps, ScoreConfig(method="topk", topk_fraction=0.01, smooth_sigma=0.0))
    relative = anomaly_scores(maps, ScoreConfig(method="topk_relative", topk_fraction=0.01, smooth_sigma=0.0))
    assert plain[0] > plain[1]  # the plain score calls the unfamiliar photo the anomaly
    assert relative.tolist() == pytest.approx([0.0, 0.5 - (0.05 * 1584 + 0.5 * 16) / 1600], abs=1e-6)


def test_topk_smoothing_suppresses_single_hot_pixel():
    maps = torch.zeros(2, 32, 32)
    maps[0, 5, 5] = 1.0  # isolated noise pixel
    maps[1, 10:16, 10:16] = 0.5  # compact blob
    scores = anomaly_scores(maps, ScoreConfig(method="topk", topk_fraction=0.01, smooth_sigma=2.0))
    assert scores[1] > scores[0]


def test_score_config_validation():
    with pytest.raises(ValueError):
        ScoreConfig(method="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ScoreConfig(topk_fraction=0.0)


def test_youden_threshold_known_answer_perfect_separation():
    labels = [0, 0, 0, 1, 1]
    scores = [0.1, 0.2, 0.3, 0.5, 0.6]
    result = youden_threshold(labels, scores)
    assert result.threshold == pytest.approx(0.4)  # midpoint between 0.3 and 0.5
    assert result.youden_j == pytest.approx(1.0)
    assert result.tpr == 1.0 and result.fpr == 0.0 and result.roc_auc == 1.0
    assert (result.n_normal, result.n_defect) == (3, 2)


def test_youden_threshold_known_answer_with_overlap():
    # normals 1..6, defects 5..10: J is maximal (5/6 - 1/6 ... ) at the cut between 6 and 7?
    normals = [1, 2, 3, 4, 5, 6]
    defects = [5.5, 7, 8, 9, 10, 11]
    labels = [0] * 6 + [1] * 6
    result = youden_threshold(labels, normals + defects)
    # cut 6.5: TPR 5/6, FPR 0 -> J 0.833; cut 5.25: TPR 1, FPR 1/6 -> J 0.833: tie -> higher threshold
    assert result.threshold == pytest.approx(6.5)
    assert result.youden_j == pytest.approx(5 / 6)
    assert math.isfinite(result.threshold)


def test_threshold_is_never_inf_even_when_sklearn_would_return_it():
    # sklearn's roc_curve puts +inf first; the chosen threshold must always be a real score midpoint
    result = youden_threshold([0, 1, 0, 1], [0.2, 0.9, 0.3, 0.8])
    assert math.isfinite(result.threshold) and 0.3 < result.threshold < 0.8


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_inf_scores_raise_clear_error(bad):
    with pytest.raises(ThresholdError, match="NaN or infinite"):
        youden_threshold([0, 1, 0, 1], [0.1, bad, 0.2, 0.9])


@pytest.mark.parametrize("labels", [[0, 0, 0], [1, 1, 1]])
def test_single_class_raises(labels):
    with pytest.raises(ThresholdError, match="needs both normals and defects"):
        youden_threshold(labels, [0.1, 0.2, 0.3])


def test_constant_scores_and_no_signal_raise():
    with pytest.raises(ThresholdError, match="do not separate"):
        youden_threshold([0, 1], [0.5, 0.5])
    with pytest.raises(ThresholdError, match="no threshold separates"):
        youden_threshold([0, 0, 1, 1], [0.9, 0.8, 0.1, 0.2])  # inverted scores
    with pytest.raises(ThresholdError, match="no images"):
        youden_threshold([], [])


def test_binary_metrics_known_values():
    labels = [0, 0, 0, 0, 1, 1, 1, 1]
    scores = [0.1, 0.2, 0.3, 0.7, 0.6, 0.8, 0.9, 0.25]
    m = binary_metrics(labels, scores, threshold=0.5)
    # predicted defects: 0.7(N), 0.6, 0.8, 0.9 -> TP 3, FP 1, FN 1 (0.25), TN 3
    assert m["confusion_matrix"] == [[3, 1], [1, 3]]
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["defect_recall"] == pytest.approx(0.75) and m["normal_recall"] == pytest.approx(0.75)
    assert m["f1"] == pytest.approx(0.75) and m["threshold"] == 0.5
    assert 0.5 < m["roc_auc"] < 1.0
    with pytest.raises(ThresholdError):
        binary_metrics(labels, scores, threshold=float("nan"))


def test_binary_metrics_single_class_has_no_auc():
    m = binary_metrics([0, 0], [0.1, 0.9], 0.5)
    assert m["roc_auc"] is None and m["defect_recall"] is None and m["normal_recall"] == 0.5


def test_defect_probability_is_monotone_and_centred():
    assert defect_probability(1.0, 1.0, 0.1) == pytest.approx(0.5)
    assert defect_probability(2.0, 1.0, 0.1) > 0.99 > defect_probability(1.05, 1.0, 0.1) > 0.5
    assert defect_probability(-1e9, 1.0, 1e-12) == pytest.approx(0.0, abs=1e-20)


class _Identity(torch.nn.Module):
    def forward(self, x):
        return torch.zeros_like(x)  # "reconstructs" everything as black: error = pixel energy


def test_detector_predicts_error_map_at_input_resolution():
    detector = AnomalyDetector(
        _Identity(),
        ScoreConfig(method="mean", smooth_sigma=0.0),
        threshold=0.1,
        input_size=16,
        error_scale=0.5,
    )
    image = np.zeros((40, 24, 3), np.uint8)
    image[:20] = 255  # top half bright -> error 1.0 there
    out = detector.predict(image)
    assert out["error_map"].shape == (40, 24) and out["error_map"].dtype == np.float32
    assert out["error_map"][:15].min() == pytest.approx(1.0)  # 1.0 / (2 * 0.5)
    assert out["error_map"][25:].max() == pytest.approx(0.0)
    assert out["score"] == pytest.approx(0.5, abs=0.05) and out["is_defect"] is True
    assert 0.5 < out["defect_probability"] <= 1.0


def test_detector_refuses_nan_threshold():
    with pytest.raises(ThresholdError):
        AnomalyDetector(_Identity(), ScoreConfig(), threshold=float("nan"), input_size=16)


# --------------------------------------------------------------------------------------------------
# training-time corruptions


def _textured(size: int = 64) -> torch.Tensor:
    """A photo-like test image: smooth gradient plus stripes (so a pasted patch is visible)."""
    ys, xs = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    stripes = 0.2 * torch.sin(xs * 40) + 0.1 * torch.cos(ys * 17)
    return torch.stack([0.4 + 0.3 * ys + stripes, 0.5 + stripes, 0.6 - 0.3 * xs]).clamp(0, 1)


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_each_corruption_changes_a_local_region_and_reports_it(kind):
    image = _textured()
    out, strength = CORRUPTIONS[kind](image.clone(), None, torch.Generator().manual_seed(3))
    assert out.shape == image.shape and float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert strength.shape == image.shape[1:]
    changed = (out - image).abs().amax(dim=0) > 0.02
    assert 0 < int(changed.sum()) < 0.5 * changed.numel()  # something, but not the whole image
    # what the corruption reports as drawn is where the image changed
    assert bool(changed[strength > MASK_LEVEL].any())
    assert not bool(changed[strength == 0].any())


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corruptions_start_inside_the_region(kind):
    image = _textured(96)
    region = torch.zeros(96, 96)
    region[60:80, 10:30] = 1.0
    for seed in range(5):
        _, strength = CORRUPTIONS[kind](image.clone(), region, torch.Generator().manual_seed(seed))
        ys, xs = torch.nonzero(strength > MASK_LEVEL, as_tuple=True)
        # a stroke may run out of the box, but every corruption starts in it
        assert float((region[ys, xs] > 0).float().max()) == 1.0
        centroid = (float(ys.float().mean()), float(xs.float().mean()))
        assert math.dist(centroid, (70.0, 20.0)) < 40.0


def test_corrupt_batch_probability_mask_and_determinism():
    images = torch.rand(6, 3, 32, 32)
    original = images.clone()
    clean, empty = corrupt_batch(images, CorruptionConfig(p=0.0))
    assert torch.equal(clean, images) and empty.shape == (6, 1, 32, 32) and float(empty.sum()) == 0
    a, mask_a = corrupt_batch(images, CorruptionConfig(p=1.0), torch.Generator().manual_seed(0))
    b, mask_b = corrupt_batch(images, CorruptionConfig(p=1.0), torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and torch.equal(mask_a, mask_b)
    assert all(not torch.equal(a[i], images[i]) for i in range(6))
    assert all(float(mask_a[i].sum()) > 0 for i in range(6))
    assert torch.equal(images, original)  # the input batch is not modified in place


def test_corruption_config_validation():
    with pytest.raises(ValueError):
        CorruptionConfig(p=1.5)
    with pytest.raises(ValueError):
        CorruptionConfig(kinds=["fire"])
    with pytest.raises(ValueError):
        CorruptionConfig(dice=-1.0)
