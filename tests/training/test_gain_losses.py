"""GAIN-MTL losses: scalar output, gradient flow, and a known value on a toy case each."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from models.gain_mtl import AttentionMining, GainMTL, defect_evidence, normalise_attention
from training.losses import create_loss, list_losses
from training.losses.gain_base import GainInputs, forward_frozen_bn, frozen_bn_stats

GAIN_LOSSES = ["cam_guide", "guide", "attention_mining", "localisation", "consistency", "counterfactual"]
SIZE = 16


class ConstantLogitModel(nn.Module):
    """A stand-in model whose defect logit is a fixed value; records the images it sees."""

    def __init__(self, logit: float = 0.0) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.tensor(float(logit)))
        self.mining = AttentionMining(fill_kernel=5)
        self.seen: list[torch.Tensor] = []

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        self.seen.append(image.detach().clone())
        return {"logits": self.bias.expand(image.shape[0], 1)}

    def defect_logit(self, output: dict[str, torch.Tensor]) -> torch.Tensor:
        return output["logits"][:, 0]


def _mask() -> torch.Tensor:
    mask = torch.zeros(2, 1, SIZE, SIZE)
    mask[0, 0, 4:8, 4:8] = 1.0  # image 0: defect; image 1: normal
    return mask


def _inputs(
    model: nn.Module,
    evidence: torch.Tensor,
    loc: torch.Tensor | None = None,
    attention: torch.Tensor | None = None,
) -> GainInputs:
    mask = _mask()
    image = torch.full((2, 1, SIZE, SIZE), 0.7)
    image[0, 0, 4:8, 4:8] = 0.0
    if attention is None:
        attention = normalise_attention(evidence, (SIZE, SIZE))
    output = {"logits": evidence.flatten(1).amax(1, keepdim=True), "cam": evidence}
    output["loc"] = loc if loc is not None else torch.zeros(2, 1, SIZE, SIZE)
    return GainInputs(model, image, mask, torch.tensor([1.0, 0.0]), output, evidence, attention, attention)


def _real_inputs() -> tuple[GainMTL, GainInputs]:
    model = GainMTL(encoder_width=8, decoder_channels=8, detail_channels=4)
    image = torch.randn(2, 1, 64, 64)  # >= 64 px: one erased image still has 2x2 deepest maps
    mask = torch.zeros(2, 1, 64, 64)
    mask[0, 0, 20:30, 20:30] = 1
    out = model(image)
    evidence = defect_evidence(out["cam"])
    att = normalise_attention(evidence, (64, 64))
    return model, GainInputs(model, image, mask, torch.tensor([1.0, 0.0]), out, evidence, att, att)


def test_every_gain_loss_is_registered() -> None:
    assert set(GAIN_LOSSES) <= set(list_losses())


@pytest.mark.parametrize("name", GAIN_LOSSES)
def test_loss_is_scalar_and_reaches_the_network(name: str) -> None:
    model, inputs = _real_inputs()
    loss = create_loss(name)(inputs)
    assert loss.shape == ()
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None and p.grad.abs().sum() > 0]
    assert grads, f"{name} sends no gradient into the model"


def test_cam_guide_known_value_for_zero_evidence() -> None:
    evidence = torch.zeros(2, 1, SIZE, SIZE, requires_grad=True)
    loss = create_loss("cam_guide")(_inputs(ConstantLogitModel(), evidence))
    # defect image: inside + outside terms, each BCE(0, t) = log 2; normal image: outside only
    assert float(loss.detach()) == pytest.approx((2 * math.log(2) + math.log(2)) / 2, abs=1e-5)
    loss.backward()
    assert evidence.grad[1].max() > 0  # pushes positive evidence down on the normal image


def test_cam_guide_is_small_for_a_perfect_cam() -> None:
    evidence = torch.where(_mask() > 0, 20.0, -20.0)
    assert float(create_loss("cam_guide")(_inputs(ConstantLogitModel(), evidence))) < 1e-6


def test_guide_known_values() -> None:
    mask = _mask()
    perfect = torch.where(mask > 0, 5.0, -5.0)
    assert float(create_loss("guide")(_inputs(ConstantLogitModel(), perfect))) == pytest.approx(0.0, abs=1e-6)
    # no attention on the defect image: shape term 1; evidence +2 outside the mask leaks 2 per
    # image; evidence 2 inside already reaches the margin 1
    flat = torch.full((2, 1, SIZE, SIZE), 2.0)
    inputs = _inputs(ConstantLogitModel(), flat, attention=torch.zeros(2, 1, SIZE, SIZE))
    assert float(create_loss("guide", strength_weight=0.5)(inputs)) == pytest.approx(1.0 + 0.5 * 2.0, abs=1e-5)


def test_guide_raises_negative_evidence_inside_the_mask() -> None:
    evidence = torch.full((2, 1, SIZE, SIZE), -3.0, requires_grad=True)
    loss = create_loss("guide", margin=1.0)(_inputs(ConstantLogitModel(), evidence))
    assert float(loss.detach()) == pytest.approx(1.0 + 4.0, abs=1e-5)  # shape 1 + reach (1 - -3)
    loss.backward()
    assert evidence.grad[0, 0, 5, 5] < 0  # descent raises evidence inside the mask
    assert evidence.grad[0, 0, 0, 0] == 0


def test_attention_mining_is_the_mean_defect_probability_of_erased_defect_images() -> None:
    model = ConstantLogitModel(logit=0.0)
    evidence = torch.where(_mask() > 0, 5.0, -5.0)
    loss = create_loss("attention_mining")(_inputs(model, evidence))
    assert float(loss.detach()) == pytest.approx(0.5)
    erased = model.seen[-1]
    assert erased.shape[0] == 1  # only the defect image
    assert erased[0, 0, 4:8, 4:8].mean() > 0.5  # the dark void was filled, not zeroed


def test_attention_mining_without_defects_is_zero() -> None:
    inputs = _inputs(ConstantLogitModel(), torch.zeros(2, 1, SIZE, SIZE))
    inputs.is_defect = torch.zeros(2)
    assert float(create_loss("attention_mining")(inputs)) == 0.0


def test_localisation_known_values() -> None:
    mask = _mask()
    perfect = torch.where(mask > 0, 30.0, -30.0)
    inputs = _inputs(ConstantLogitModel(), torch.zeros(2, 1, SIZE, SIZE), loc=perfect)
    assert float(create_loss("localisation")(inputs)) == pytest.approx(0.0, abs=1e-3)
    inputs = _inputs(ConstantLogitModel(), torch.zeros(2, 1, SIZE, SIZE), loc=torch.zeros(2, 1, SIZE, SIZE))
    n, g = 2 * SIZE * SIZE, float(mask.sum())
    dice = 1 - (2 * 0.5 * g + 1) / (0.5 * n + g + 1)
    assert float(create_loss("localisation", bce="mean")(inputs)) == pytest.approx(dice + math.log(2), abs=1e-5)
    # balanced: defect image (inside + outside) / 2 = log 2, normal image outside / 2 = log 2 / 2
    balanced = (math.log(2) + math.log(2) / 2) / 2
    assert float(create_loss("localisation")(inputs)) == pytest.approx(dice + balanced, abs=1e-5)


def test_consistency_known_value() -> None:
    attention = _mask().clone()
    inputs = _inputs(ConstantLogitModel(), torch.zeros(2, 1, SIZE, SIZE), attention=attention)
    # loc logits 0 -> p = 0.5 everywhere; only the defect image counts
    assert float(create_loss("consistency")(inputs)) == pytest.approx(0.25)


def test_counterfactual_inpaints_the_defect_and_targets_normal() -> None:
    model = ConstantLogitModel(logit=0.0)
    loss = create_loss("counterfactual", radius=1, kernel_size=5)(
        _inputs(model, torch.zeros(2, 1, SIZE, SIZE))
    )
    assert float(loss.detach()) == pytest.approx(math.log(2))
    image = model.seen[-1]
    assert image.shape[0] == 1
    torch.testing.assert_close(image[0, 0, 3:9, 3:9], torch.full((6, 6), 0.7))  # void and rim gone


def test_frozen_bn_stats_keep_running_statistics() -> None:
    model = GainMTL(encoder_width=8, decoder_channels=8, detail_channels=4).train()
    bn = model.encoder.net.bn1
    before = bn.running_mean.clone()
    forward_frozen_bn(model, torch.randn(2, 1, 32, 32) * 5 + 3)
    torch.testing.assert_close(bn.running_mean, before)
    with frozen_bn_stats(model):
        pass
    assert bn.momentum == 0.1
    model(torch.randn(2, 1, 32, 32) * 5 + 3)
    assert not torch.allclose(bn.running_mean, before)
