"""``L_cam_guide`` (S2): the raw CAM supervised by the defect mask.

The raw evidence map ``M`` (before any normalisation, so its *strength* is supervised) is read
as per-position defect logits and compared with the mask downsampled to its grid (share of
defect pixels per cell) by a class-balanced BCE:

    L = mean_b [ mean_{inside}(BCE(M, m)) + mean_{outside}(BCE(M, m)) ]

On defect images this pulls ``M`` up inside the mask and pushes positive ``M`` down outside
it; on normal images (empty mask) only the outside term remains, which pushes the whole map
towards "no evidence". A per-image min-max normalised CAM could not do that: its maximum is
always 1.
"""

from __future__ import annotations

import torch
from torch import nn

from training.losses import register_loss
from training.losses.gain_base import GainInputs, balanced_bce_with_logits, mask_at


@register_loss("cam_guide")
class CAMGuideLoss(nn.Module):
    """Class-balanced BCE between the raw CAM and the area-downsampled mask, on every image."""

    def forward(self, inputs: GainInputs) -> torch.Tensor:
        """Return the scalar loss."""
        evidence = inputs.evidence
        target = mask_at(inputs.mask, evidence.shape[-2:])
        return balanced_bce_with_logits(evidence, target).mean()
