"""``L_consist`` (S4+): the attention map and the localisation map must agree.

On defect images, the mean squared difference between the normalised attention ``A`` and the
localisation probabilities ``P`` (both at input size):

    L = mean_{defect images} mean_pixels (A - P)^2

Gradients flow into both maps, so each one regularises the other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from training.losses import register_loss
from training.losses.gain_base import GainInputs, masked_mean


@register_loss("consistency")
class ConsistencyLoss(nn.Module):
    """Mean squared difference between attention and localisation on defect images."""

    def forward(self, inputs: GainInputs) -> torch.Tensor:
        """Return the scalar loss (0 when the batch has no defect image)."""
        size = inputs.attention.shape[-2:]
        prob = torch.sigmoid(
            F.interpolate(inputs.output["loc"], size=size, mode="bilinear", align_corners=False)
        )
        per_image = ((inputs.attention - prob) ** 2).flatten(1).mean(1)
        return masked_mean(per_image, (inputs.is_defect > 0).float())
