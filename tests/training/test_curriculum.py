"""GT-mask curriculum and loss warm-up schedules."""

from __future__ import annotations

import pytest
import torch

from training.curriculum import MaskCurriculum, linear_warmup


def test_alpha_decays_linearly_to_zero_at_end_ratio() -> None:
    c = MaskCurriculum(alpha_start=0.5, end_ratio=0.7)
    assert c.alpha(0.0) == pytest.approx(0.5)
    assert c.alpha(0.35) == pytest.approx(0.25)
    assert c.alpha(0.7) == pytest.approx(0.0)
    assert c.alpha(0.9) == 0.0
    assert c.alpha(1.0) == 0.0


def test_fusion_is_multiplicative_and_vanishes_with_alpha() -> None:
    c = MaskCurriculum(alpha_start=0.5, end_ratio=0.7)
    attention = torch.full((1, 1, 2, 2), 0.8)
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    fused = c.fuse(attention, mask, 0.0)
    torch.testing.assert_close(fused, torch.tensor([[[[0.8, 0.4], [0.4, 0.4]]]]))
    assert c.fuse(attention, mask, 0.8) is attention  # no mask at the end (and at inference)


def test_disabled_curriculum_never_changes_attention() -> None:
    c = MaskCurriculum()
    attention = torch.rand(1, 1, 3, 3)
    assert c.fuse(attention, torch.ones_like(attention), 0.0) is attention


def test_linear_warmup() -> None:
    assert linear_warmup(0.2, 0.5, 0.0) == 0.0
    assert linear_warmup(0.2, 0.5, 0.25) == pytest.approx(0.1)
    assert linear_warmup(0.2, 0.5, 0.9) == pytest.approx(0.2)
    assert linear_warmup(1.5, 0.0, 0.0) == 1.5


@pytest.mark.parametrize("kwargs", [{"alpha_start": 1.5}, {"alpha_start": -0.1}, {"end_ratio": 0.0}])
def test_invalid_curriculum(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        MaskCurriculum(**kwargs)
