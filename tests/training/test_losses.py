"""Focal loss and label smoothing against values computed by hand."""

import math

import pytest
import torch

from core.errors import ConfigError
from training.losses import CrossEntropyLoss, FocalLoss, create_loss, list_losses
from training.losses.focal import smooth_targets


def test_smooth_targets_match_seed_example():
    q = smooth_targets(torch.tensor([2]), num_classes=5, smoothing=0.1)
    assert torch.allclose(q, torch.tensor([[0.025, 0.025, 0.9, 0.025, 0.025]]))


def test_gamma_zero_without_smoothing_is_cross_entropy():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    target = torch.tensor([0, 2])
    expected = torch.nn.functional.cross_entropy(logits, target)
    assert torch.isclose(FocalLoss(gamma=0.0)(logits, target), expected)


def test_focal_matches_hand_computed_value():
    # Two classes, logits [0, ln 3] -> p = [0.25, 0.75]; target 1, gamma 2:
    # FL = -(1 - 0.75)^2 * ln 0.75 = 0.0625 * 0.2876821
    logits = torch.tensor([[0.0, math.log(3.0)]])
    loss = FocalLoss(gamma=2.0)(logits, torch.tensor([1]))
    assert loss.item() == pytest.approx(0.0625 * -math.log(0.75), rel=1e-5)


def test_focal_with_label_smoothing_matches_hand_computed_value():
    # Same logits, smoothing 0.2 -> q = [0.2, 0.8]:
    # FL = -(0.2 * 0.75^2 * ln 0.25 + 0.8 * 0.25^2 * ln 0.75)
    logits = torch.tensor([[0.0, math.log(3.0)]])
    loss = FocalLoss(gamma=2.0, label_smoothing=0.2)(logits, torch.tensor([1]))
    expected = -(0.2 * 0.75**2 * math.log(0.25) + 0.8 * 0.25**2 * math.log(0.75))
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_label_smoothing_cross_entropy_hand_value():
    # Three classes, uniform logits -> p = 1/3 each; any smoothing gives ln 3.
    logits = torch.zeros(1, 3)
    assert CrossEntropyLoss(label_smoothing=0.3)(logits, torch.tensor([0])).item() == pytest.approx(
        math.log(3)
    )
    # Logits [ln 2, 0, 0] -> p = [0.5, 0.25, 0.25]; smoothing 0.2 -> q = [0.8, 0.1, 0.1].
    logits = torch.tensor([[math.log(2.0), 0.0, 0.0]])
    expected = -(0.8 * math.log(0.5) + 0.2 * math.log(0.25))
    assert CrossEntropyLoss(label_smoothing=0.2)(logits, torch.tensor([0])).item() == pytest.approx(expected)


def test_class_weights_use_weighted_mean_like_torch():
    logits = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.3, 0.1]])
    target = torch.tensor([0, 1, 1])
    weights = [1.0, 4.0]
    ours = FocalLoss(gamma=0.0, class_weights=weights)(logits, target)
    theirs = torch.nn.functional.cross_entropy(logits, target, weight=torch.tensor(weights))
    assert torch.isclose(ours, theirs)


def test_focal_downweights_easy_examples():
    easy = torch.tensor([[5.0, -5.0]])
    ce = FocalLoss(gamma=0.0)(easy, torch.tensor([0]))
    fl = FocalLoss(gamma=2.0)(easy, torch.tensor([0]))
    assert fl < ce * 1e-3


def test_focal_gradients_are_finite_for_confident_logits():
    logits = torch.tensor([[30.0, -30.0, 0.0]], requires_grad=True)
    FocalLoss(gamma=2.0, label_smoothing=0.1)(logits, torch.tensor([1])).backward()
    assert torch.isfinite(logits.grad).all()


def test_registry_and_errors():
    assert {"focal", "cross_entropy"} <= set(list_losses())
    assert isinstance(create_loss("focal", gamma=1.5), FocalLoss)
    with pytest.raises(ConfigError, match="unknown loss"):
        create_loss("nope")
    with pytest.raises(ConfigError, match="label_smoothing"):
        create_loss("focal", label_smoothing=1.5)
    with pytest.raises(ValueError, match="class weights"):
        FocalLoss(class_weights=[1.0, 2.0])(torch.zeros(1, 3), torch.tensor([0]))
