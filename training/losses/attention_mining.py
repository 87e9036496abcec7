"""``L_am`` (S3+): attention mining, GAIN's self-guidance (Li et al. 2018, eq. 4).

For each defect image the attended region is erased (soft mask ``T = sigmoid(omega (A - sigma))``,
filled from its surroundings by :class:`~models.gain_mtl.AttentionMining`) and the model is run
again on the erased image ``I*``. If the attention covered all the evidence, ``I*`` looks
normal, so the loss is the mean predicted defect probability

    L_am = mean_{defect images} sigmoid(z(I*))

Gradients reach both the classifier and, through ``T``, the attention map. The erased pass
keeps BatchNorm running statistics frozen (:func:`~training.losses.gain_base.frozen_bn_stats`).
"""

from __future__ import annotations

import torch
from torch import nn

from training.losses import register_loss
from training.losses.gain_base import GainInputs, forward_frozen_bn


@register_loss("attention_mining")
class AttentionMiningLoss(nn.Module):
    """Mean defect probability of defect images whose attended region is erased."""

    def forward(self, inputs: GainInputs) -> torch.Tensor:
        """Return the scalar loss (0 when the batch has no defect image)."""
        defect = inputs.is_defect > 0
        if not bool(defect.any()):
            return inputs.evidence.sum() * 0.0
        erased = inputs.model.mining(inputs.image[defect], inputs.mining_attention[defect])
        return torch.sigmoid(forward_frozen_bn(inputs.model, erased)).mean()
