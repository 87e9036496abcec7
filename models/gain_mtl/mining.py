"""The attention-mining module of GAIN (Li et al., CVPR 2018).

From the attention map ``A`` (per-image min-max normalised, at input size) a soft mask

    T = sigmoid(omega * (A - sigma))

selects what the model attends to; the *erased* image ``I* = I - T * I + T * fill`` removes it,
with ``fill`` inpainted from the surroundings (see :mod:`models.gain_mtl.inpaint`). If the
attention covers all the evidence, ``I*`` no longer looks defective; the attention-mining loss
drives the model there.
"""

from __future__ import annotations

import torch
from torch import nn

from models.gain_mtl.inpaint import inpaint


class AttentionMining(nn.Module):
    """Soft-mask an attention map and erase the attended region from the image.

    Args:
        omega: Steepness of the soft threshold (GAIN uses 10).
        sigma: Threshold on the normalised attention (GAIN uses 0.5).
        fill_kernel: Window of the local-mean inpainting fill.
    """

    def __init__(self, omega: float = 10.0, sigma: float = 0.5, fill_kernel: int = 11) -> None:
        super().__init__()
        self.omega = float(omega)
        self.sigma = float(sigma)
        self.fill_kernel = int(fill_kernel)

    def soft_mask(self, attention: torch.Tensor) -> torch.Tensor:
        """``T = sigmoid(omega * (A - sigma))``, same shape as ``attention``."""
        return torch.sigmoid(self.omega * (attention - self.sigma))

    def forward(self, image: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """Return the image with the attended region erased (``[B, C, H, W]``)."""
        return inpaint(image, self.soft_mask(attention), kernel_size=self.fill_kernel)

    def extra_repr(self) -> str:
        return f"omega={self.omega}, sigma={self.sigma}, fill_kernel={self.fill_kernel}"
