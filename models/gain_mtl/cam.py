"""The classifier head whose weights give a differentiable class-activation map (CAM).

A 1x1 convolution applies the classifier weights (and bias) at every position of the decoder
map, giving the *evidence map* ``M`` (one channel per output logit). The image logit pools
``M`` over space, so the CAM is exactly the spatial decomposition of the decision:

* ``pool="avg"``: ``logit = mean(M)``, the classic CAM of Zhou et al. (2016);
* ``pool="lse"``: ``logit = log(mean(exp(r * M))) / r``, a smooth maximum (log-sum-exp pooling)
  suited to small defects: one strongly positive region is enough to call an image defective,
  and an image is normal only when ``M`` is negative everywhere.

With one output (the default) ``M`` is the defect evidence. With ``C >= 2`` classes the defect
evidence of class ``c`` is ``M_c - M_0`` (class 0 is normal): guiding ``M_c`` alone would be
gamed by the normal-class weights, since the decision depends on the difference.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError


class CAMClassifier(nn.Module):
    """Per-position classifier + spatial pooling.

    Args:
        in_channels: Channels of the feature map.
        num_classes: Number of logits (1 = a single defect logit).
        pool: ``"lse"`` or ``"avg"``.
        lse_r: Sharpness ``r`` of log-sum-exp pooling.
    """

    def __init__(
        self, in_channels: int, num_classes: int = 1, pool: str = "lse", lse_r: float = 10.0
    ) -> None:
        super().__init__()
        if pool not in ("lse", "avg"):
            raise ConfigError(f"CAM pooling must be 'lse' or 'avg', got {pool!r}.")
        if lse_r <= 0:
            raise ConfigError(f"lse_r must be positive, got {lse_r}.")
        self.fc = nn.Conv2d(in_channels, num_classes, 1)
        self.pool = pool
        self.lse_r = float(lse_r)
        self.num_classes = num_classes

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(logits [B, C], evidence map M [B, C, h, w])``."""
        cam = self.fc(features)
        flat = cam.flatten(2)
        if self.pool == "avg":
            logits = flat.mean(-1)
        else:
            r = self.lse_r
            logits = (torch.logsumexp(r * flat, dim=-1) - math.log(flat.shape[-1])) / r
        return logits, cam


def defect_evidence(cam: torch.Tensor, target: int | None = None) -> torch.Tensor:
    """The raw defect-evidence map ``[B, 1, h, w]`` of an evidence map ``[B, C, h, w]``.

    Args:
        cam: Evidence map from :class:`CAMClassifier`.
        target: Defect class for ``C >= 2`` (default: the strongest non-normal class per image).
    """
    if cam.shape[1] == 1:
        return cam
    diff = cam[:, 1:] - cam[:, :1]
    if target is not None:
        return diff[:, target - 1 : target]
    strongest = diff.flatten(2).amax(-1).argmax(1)
    return diff[torch.arange(cam.shape[0]), strongest].unsqueeze(1)


def normalise_attention(
    evidence: torch.Tensor, size: tuple[int, int] | None = None, eps: float = 1e-6
) -> torch.Tensor:
    """Per-image min-max normalised positive evidence, the attention map the user sees.

    In this order: the map is upsampled (bilinear) to ``size``, so it is compared with masks at
    input resolution; then, as in Grad-CAM, negative evidence is clipped at zero; then each
    image's map is min-max normalised. An image without positive evidence gets an all-zero map.
    Differentiable. (The ``gain_attention`` explainer clips before upsampling; see
    :mod:`inspector.explain.gain_attention`.)

    Args:
        evidence: Raw evidence ``[B, 1, h, w]``.
        size: Output ``(H, W)``; ``None`` keeps the map's size.
        eps: Guard against division by zero.

    Returns:
        ``[B, 1, H, W]`` in ``[0, 1]``.
    """
    if size is not None and tuple(evidence.shape[-2:]) != tuple(size):
        evidence = F.interpolate(evidence, size=size, mode="bilinear", align_corners=False)
    pos = evidence.clamp(min=0)
    lo = pos.flatten(1).amin(1).view(-1, 1, 1, 1)
    hi = pos.flatten(1).amax(1).view(-1, 1, 1, 1)
    return (pos - lo) / (hi - lo + eps)
