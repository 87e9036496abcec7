"""Focal loss with label smoothing and class weights (seed 002, class-imbalance remedies 1, 2, 4)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from training.losses import register_loss


def smooth_targets(target: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """One-hot targets with ``smoothing`` spread evenly over the *other* classes.

    With 5 classes and ``smoothing=0.1`` the true class gets 0.9 and each other class 0.025,
    as in seed 002 (``[0.025, 0.025, 0.9, 0.025, 0.025]``).

    Args:
        target: Integer class indices, shape ``[N]``.
        num_classes: Number of classes ``C`` (> 1 when smoothing > 0).
        smoothing: Probability mass moved off the true class, in ``[0, 1)``.

    Returns:
        Float tensor ``[N, C]`` whose rows sum to 1.
    """
    off = smoothing / (num_classes - 1) if num_classes > 1 else 0.0
    dist = torch.full((target.shape[0], num_classes), off, device=target.device)
    dist.scatter_(1, target.unsqueeze(1), 1.0 - smoothing)
    return dist


@register_loss("focal")
class FocalLoss(nn.Module):
    """``FL = -w_y * sum_c q_c (1 - p_c)^gamma log p_c`` over smoothed targets ``q``.

    ``gamma = 0`` and ``label_smoothing = 0`` give plain (weighted) cross-entropy. With class
    weights, ``reduction="mean"`` divides by the summed weights of the batch targets, like
    ``torch.nn.CrossEntropyLoss``.

    Args:
        gamma: Focusing parameter; larger values down-weight easy samples.
        label_smoothing: Mass moved from the true class to the others (see :func:`smooth_targets`).
        class_weights: Optional per-class weights ``w`` (length ``C``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
    """

    def __init__(
        self,
        gamma: float = 2.0,
        label_smoothing: float = 0.0,
        class_weights: Sequence[float] | torch.Tensor | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be mean, sum or none, got {reduction!r}")
        self.gamma = float(gamma)
        self.label_smoothing = float(label_smoothing)
        self.reduction = reduction
        weights = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
        if weights is not None and (weights.ndim != 1 or (weights < 0).any()):
            raise ValueError("class_weights must be a flat list of non-negative numbers")
        self.register_buffer("class_weights", weights, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Loss of ``logits [N, C]`` against integer ``target [N]``."""
        num_classes = logits.shape[1]
        if self.class_weights is not None and self.class_weights.numel() != num_classes:
            raise ValueError(f"{self.class_weights.numel()} class weights for {num_classes} classes")
        log_p = F.log_softmax(logits.float(), dim=1)
        q = smooth_targets(target, num_classes, self.label_smoothing)
        focus = (1.0 - log_p.exp()).clamp(min=0).pow(self.gamma) if self.gamma > 0 else 1.0
        per_sample = -(q * focus * log_p).sum(dim=1)
        if self.class_weights is None:
            weight = torch.ones_like(per_sample)
        else:
            weight = self.class_weights.to(logits.device)[target]
        per_sample = per_sample * weight
        if self.reduction == "none":
            return per_sample
        if self.reduction == "sum":
            return per_sample.sum()
        return per_sample.sum() / weight.sum().clamp(min=1e-12)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, label_smoothing={self.label_smoothing}, reduction={self.reduction!r}"


@register_loss("cross_entropy")
class CrossEntropyLoss(FocalLoss):
    """Cross-entropy with the same smoothing and weighting conventions (a focal loss with gamma 0)."""

    def __init__(
        self,
        label_smoothing: float = 0.0,
        class_weights: Sequence[float] | torch.Tensor | None = None,
        reduction: str = "mean",
        gamma: float = 0.0,
    ) -> None:
        if gamma != 0:
            raise ValueError("cross_entropy takes no gamma; use the focal loss")
        super().__init__(0.0, label_smoothing, class_weights, reduction)
