"""``L_cf`` (S5+): with the defect removed, the image must be classified normal.

Construction of the counterfactual image, for each defect image ``I`` with mask ``g``:

1. ``r = dilate(g, radius)``: the mask grown by ``radius`` pixels (square element), so the
   void's dark rim goes too;
2. ``I_cf = inpaint(I, r)``: the region replaced by the local mean of the surrounding known
   pixels in a ``kernel_size`` window (normalised convolution; see
   :func:`models.gain_mtl.inpaint`), never by a constant that could itself look like a void.

Everything else, including any shortcut cue such as a scanner stamp, stays. The loss is the
BCE of the defect logit of ``I_cf`` against "normal", averaged over defect images, computed
with BatchNorm running statistics frozen:

    L_cf = mean_{defect images} softplus(z(I_cf))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.gain_mtl.inpaint import dilate, inpaint
from training.losses import register_loss
from training.losses.gain_base import GainInputs, forward_frozen_bn


def counterfactual_images(
    image: torch.Tensor, mask: torch.Tensor, radius: int = 1, kernel_size: int = 11
) -> torch.Tensor:
    """Images with the (dilated) mask region inpainted from its surroundings."""
    return inpaint(image, dilate(mask, radius), kernel_size=kernel_size)


@register_loss("counterfactual")
class CounterfactualLoss(nn.Module):
    """BCE towards "normal" of defect images whose defect region is inpainted.

    Args:
        radius: Dilation of the mask in pixels before inpainting.
        kernel_size: Window of the inpainting fill.
    """

    def __init__(self, radius: int = 1, kernel_size: int = 11) -> None:
        super().__init__()
        self.radius = int(radius)
        self.kernel_size = int(kernel_size)

    def forward(self, inputs: GainInputs) -> torch.Tensor:
        """Return the scalar loss (0 when the batch has no defect image)."""
        defect = (inputs.is_defect > 0) & (inputs.mask.flatten(1).sum(1) > 0)
        if not bool(defect.any()):
            return inputs.evidence.sum() * 0.0
        images = counterfactual_images(
            inputs.image[defect], inputs.mask[defect], self.radius, self.kernel_size
        )
        return F.softplus(forward_frozen_bn(inputs.model, images)).mean()

    def extra_repr(self) -> str:
        return f"radius={self.radius}, kernel_size={self.kernel_size}"
