"""What every GAIN-MTL loss receives, and helpers they share.

Each GAIN loss is a small ``nn.Module`` registered in :mod:`training.losses` whose ``forward``
takes one :class:`GainInputs` and returns a scalar. The task builds the inputs once per batch,
so losses that need an extra forward pass (attention mining, counterfactual) call
:func:`forward_frozen_bn` on ``inputs.model``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class GainInputs:
    """One training batch and the model's outputs on it.

    Attributes:
        model: The :class:`~models.gain_mtl.GainMTL` being trained (for extra passes).
        image: ``[B, C, H, W]`` input images.
        mask: ``[B, 1, H, W]`` ground-truth defect masks (0/1; all zero on normal images).
        is_defect: ``[B]`` float, 1 for defect images.
        output: ``model(image)``: ``logits``, ``cam`` (raw evidence) and ``loc`` logits.
        evidence: ``[B, 1, h, w]`` raw defect evidence (the unnormalised CAM).
        attention: ``[B, 1, H, W]`` the model's normalised attention at input size.
        mining_attention: The attention that attention mining erases: ``attention`` fused
            with the GT mask by the curriculum (see :mod:`training.curriculum`); equal to
            ``attention`` when no curriculum runs.
    """

    model: nn.Module
    image: torch.Tensor
    mask: torch.Tensor
    is_defect: torch.Tensor
    output: dict[str, torch.Tensor]
    evidence: torch.Tensor
    attention: torch.Tensor
    mining_attention: torch.Tensor

    @property
    def defect_logit(self) -> torch.Tensor:
        """``[B]`` logit of "defective" on the original images."""
        return self.model.defect_logit(self.output)


@contextmanager
def frozen_bn_stats(model: nn.Module) -> Iterator[None]:
    """Keep BatchNorm running statistics unchanged inside the block.

    Layers still normalise with the batch statistics (train mode), but ``momentum`` is set
    to 0 so the running mean and variance are not moved by synthetic (erased, inpainted)
    images, which would corrupt them for inference.
    """
    saved = []
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            saved.append((module, module.momentum))
            module.momentum = 0.0
    try:
        yield
    finally:
        for module, momentum in saved:
            module.momentum = momentum


def forward_frozen_bn(model: nn.Module, image: torch.Tensor) -> torch.Tensor:
    """Defect logits ``[B]`` of ``model`` on ``image`` without touching BatchNorm statistics."""
    with frozen_bn_stats(model):
        return model.defect_logit(model(image))


def masked_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``sum(values * weights) / sum(weights)``, 0 when the weights are all zero."""
    total = weights.sum()
    return (values * weights).sum() / total.clamp(min=1.0) if total > 0 else values.sum() * 0.0


def mask_at(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Share of defect pixels in each cell of a ``size`` grid (area downsampling), ``[B, 1, h, w]``."""
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return F.adaptive_avg_pool2d(mask, size)


def balanced_bce_with_logits(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image BCE averaged separately inside and outside the target, then summed, ``[B]``.

    Defects cover a tiny share of the image, so a plain pixel mean would be dominated by the
    background. Images with an empty target only get the outside term.
    """
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1)
    inside = target.flatten(1)
    outside = 1.0 - inside
    in_term = (bce * inside).sum(1) / inside.sum(1).clamp(min=1e-6)
    out_term = (bce * outside).sum(1) / outside.sum(1).clamp(min=1e-6)
    return torch.where(inside.sum(1) > 0, in_term, torch.zeros_like(in_term)) + out_term
