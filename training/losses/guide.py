"""``L_guide`` (S3+): GAIN's extra supervision of the attention map with the mask.

Three terms (the first is Li et al.'s extra supervision; the other two fix failures we
measured):

* shape, on defect images: ``1 - softIoU(A, g)`` between the normalised attention ``A`` (at
  input size) and the mask ``g``, with ``softIoU = sum(A g) / sum(A + g - A g)``. GAIN uses a
  pixel-mean squared error; voids cover well under 1 % of a slice, so a pixel mean is
  dominated by the background and lets attention spread (low Energy-Inside). The soft IoU
  weighs every stray unit of attention against the mask size;
* leakage, on every image: the mean *raw* positive evidence outside the mask,
  ``mean_{g=0} relu(M)``. The normalised map cannot be pushed to zero on a normal image (its
  maximum is always 1), so strength is supervised on the raw map;
* reach, on defect images: ``mean_{g=1} relu(margin - M)``, raw evidence inside the mask
  should reach ``margin``. ``A`` clips negative evidence at zero, so without this term a
  defect pixel whose evidence is negative gets no gradient from the shape term at all.

``L = shape + strength_weight * (leakage + reach)``; seed 001 weighs the whole loss with
``lambda_guide = 1.5`` (set in the config).
"""

from __future__ import annotations

import torch
from torch import nn

from training.losses import register_loss
from training.losses.gain_base import GainInputs, mask_at, masked_mean


def _region_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Per-image weighted mean ``[B]`` of ``values`` over ``weights`` (0 where the region is empty)."""
    return (values * weights).flatten(1).sum(1) / weights.flatten(1).sum(1).clamp(min=1e-6)


@register_loss("guide")
class GuideLoss(nn.Module):
    """Soft-IoU of the normalised attention with the mask + raw-evidence leakage and reach terms.

    Args:
        strength_weight: Weight of the two raw-evidence terms.
        margin: Evidence the defect pixels should reach.
    """

    def __init__(self, strength_weight: float = 1.0, margin: float = 1.0) -> None:
        super().__init__()
        if strength_weight < 0 or margin < 0:
            raise ValueError("strength_weight and margin must be >= 0")
        self.strength_weight = float(strength_weight)
        self.margin = float(margin)

    def forward(self, inputs: GainInputs) -> torch.Tensor:
        """Return the scalar loss."""
        attention, mask = inputs.attention, inputs.mask
        has_mask = ((inputs.is_defect > 0) & (mask.flatten(1).sum(1) > 0)).float()
        inter = (attention * mask).flatten(1).sum(1)
        union = (attention + mask - attention * mask).flatten(1).sum(1)
        shape = masked_mean(1.0 - inter / union.clamp(min=1e-6), has_mask)

        evidence = inputs.evidence
        cells = mask_at(mask, evidence.shape[-2:])
        leak = _region_mean(evidence.clamp(min=0), 1.0 - cells).mean()
        reach = masked_mean(_region_mean((self.margin - evidence).clamp(min=0), cells), has_mask)
        return shape + self.strength_weight * (leak + reach)

    def extra_repr(self) -> str:
        return f"strength_weight={self.strength_weight}, margin={self.margin}"
