"""Localisation metrics on hand-made maps."""

from __future__ import annotations

import pytest
import torch

from training.metrics.localisation import (
    GainMetrics,
    cam_iou,
    energy_inside,
    loc_iou,
    minmax_normalise,
    point_game,
)


def _square(size: int = 10, lo: int = 2, hi: int = 6) -> torch.Tensor:
    m = torch.zeros(size, size)
    m[lo:hi, lo:hi] = 1
    return m


def test_minmax_normalise_per_image_and_constant_maps() -> None:
    maps = torch.stack([torch.arange(4.0).view(2, 2) * 3 + 1, torch.full((2, 2), 7.0)])
    out = minmax_normalise(maps)
    torch.testing.assert_close(out[0], torch.tensor([[0.0, 1 / 3], [2 / 3, 1.0]]))
    assert torch.all(out[1] == 0)


def test_perfect_map_scores_one() -> None:
    mask = _square()
    att = mask * 5.0  # strength does not matter after normalisation
    assert float(cam_iou(att, mask)) == 1.0
    assert float(point_game(att, mask)) == 1.0
    assert float(energy_inside(att, mask)) == 1.0
    assert float(loc_iou(mask * 0.9, mask)) == 1.0


def test_shifted_map_known_iou() -> None:
    mask = _square(lo=2, hi=6)  # 16 px
    att = _square(lo=4, hi=8)  # overlaps 2x2 = 4 px
    assert float(cam_iou(att, mask)) == pytest.approx(4 / 28)
    assert float(energy_inside(att, mask)) == pytest.approx(4 / 16)


def test_cam_iou_threshold_is_on_the_normalised_map() -> None:
    mask = _square()
    att = mask * 0.3 + 0.1  # normalised: 1 inside, 0 outside
    assert float(cam_iou(att, mask)) == 1.0
    assert float(loc_iou(att, mask)) == 0.0  # probabilities are not normalised: all below 0.5


def test_point_game_tolerance() -> None:
    mask = _square(size=20, lo=5, hi=8)
    att = torch.zeros(20, 20)
    att[10, 10] = 1.0  # 3 px from the mask (rows 5..7, cols 5..7): Chebyshev distance 3
    assert float(point_game(att, mask, tolerance=3)) == 1.0
    assert float(point_game(att, mask, tolerance=2)) == 0.0


def test_empty_attention_misses() -> None:
    mask = _square()
    att = torch.zeros(10, 10)
    assert float(point_game(att, mask)) == 0.0
    assert float(energy_inside(att, mask)) == 0.0
    assert float(cam_iou(att, mask)) == 0.0


def test_coarse_maps_are_upsampled_to_the_mask() -> None:
    mask = torch.zeros(8, 8)
    mask[:4, :4] = 1
    coarse = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    assert float(point_game(coarse, mask, tolerance=0)) == 1.0
    assert float(energy_inside(coarse, mask)) == pytest.approx(0.765625)  # bilinear spill-over


def test_gain_metrics_accumulates_classification_and_maps() -> None:
    meter = GainMetrics(threshold=0.5, tolerance=0)
    masks = torch.zeros(4, 1, 10, 10)
    masks[0, 0] = _square()
    masks[1, 0] = _square()
    att = masks.clone()
    att[1, 0] = 0  # second defect image: no attention
    att[2, 0, 0, 0] = 1  # normal images never enter the map metrics
    meter.update(torch.tensor([0.9, 0.2, 0.7, 0.1]), torch.tensor([1, 1, 0, 0]), att, masks, loc_prob=masks)
    out = meter.compute()
    assert out["accuracy"] == pytest.approx(0.5)
    assert out["recall"] == pytest.approx(0.5)
    assert out["f1"] == pytest.approx(0.5)
    assert out["cam_iou"] == pytest.approx(0.5)
    assert out["point_game"] == pytest.approx(0.5)
    assert out["energy_inside"] == pytest.approx(0.5)
    assert out["loc_iou"] == pytest.approx(1.0)
    assert out["n_images"] == 4 and out["n_defect_images"] == 2


def test_gain_metrics_without_loc_head_reports_none() -> None:
    meter = GainMetrics()
    meter.update(torch.tensor([0.9]), torch.tensor([1]), _square()[None, None], _square()[None, None])
    assert meter.compute()["loc_iou"] is None
