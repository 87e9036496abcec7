"""``hierarchical``: a coarse normal/defect head and a fine type head on one ResNet-18 trunk.

The two heads are combined into ordinary class logits,

    logits[c] = log p(group(c) | x) + log p(c | group(c), x),

where ``p(group | x)`` is the softmax of the coarse head and ``p(c | group, x)`` the softmax of
the fine head restricted to the classes of that group. ``softmax(logits)`` is therefore a proper
distribution over the ``num_classes`` labels, and the model drops into the same loss, metrics and
predictor code as every other family.

Optional auxiliary loss on the coarse head (the training task decides)::

    out = model.forward_hierarchical(image, meta)          # HierarchicalOutput
    loss = criterion(out.logits, labels)
    loss = loss + aux_weight * F.cross_entropy(out.coarse_logits, model.coarse_targets(labels))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError
from models.ct_cnn.registry import register_model
from models.ct_cnn.resnet import ResNetClassifier

# CT label order: cell_normal, cell_porosity, module_normal, module_porosity, module_resin_overflow
CT_GROUPS: tuple[int, ...] = (0, 1, 0, 1, 1)  # 0 = normal, 1 = defect


class HierarchicalOutput(NamedTuple):
    """Outputs of :meth:`HierarchicalClassifier.forward_hierarchical`.

    Attributes:
        logits: Combined class log-probabilities, FloatTensor[B, num_classes].
        coarse_logits: Coarse-head logits, FloatTensor[B, num_groups] (0 = normal, 1 = defect).
        fine_logits: Raw fine-head logits, FloatTensor[B, num_classes].
    """

    logits: torch.Tensor
    coarse_logits: torch.Tensor
    fine_logits: torch.Tensor


def _check_groups(groups: Sequence[int] | None, num_classes: int) -> tuple[int, ...]:
    if groups is None:
        if num_classes != len(CT_GROUPS):
            raise ConfigError(
                f"hierarchical needs groups (the coarse group of each class) for {num_classes} classes."
            )
        return CT_GROUPS
    groups = tuple(int(g) for g in groups)
    if (
        len(groups) != num_classes
        or sorted(set(groups)) != list(range(max(groups) + 1))
        or len(set(groups)) < 2
    ):
        raise ConfigError(
            f"groups must give each of the {num_classes} classes a coarse group 0..G-1 with G >= 2, got {list(groups)}."
        )
    return groups


class HierarchicalClassifier(ResNetClassifier):
    """ResNet + coarse head (normal/defect) + fine head, combined into class logits.

    Args:
        num_classes: Number of fine classes (logits).
        in_chans: Image channels.
        backbone: ``"resnet18"`` or ``"resnet34"``.
        dropout: Dropout before both heads.
        groups: Coarse group of each class; default :data:`CT_GROUPS` for the 5 CT classes.
        hidden: Width of the hidden layer of each head.
        output_stride: Output stride of the backbone.
        pretrained_path: Optional local ``.safetensors`` ResNet state dict for the backbone.
    """

    def __init__(
        self,
        num_classes: int = 5,
        in_chans: int = 1,
        backbone: str = "resnet18",
        dropout: float = 0.5,
        groups: Sequence[int] | None = None,
        hidden: int = 256,
        output_stride: int = 32,
        pretrained_path: str | Path | None = None,
    ) -> None:
        groups = _check_groups(groups, num_classes)
        self.hidden = hidden
        super().__init__(num_classes, in_chans, backbone, dropout, output_stride, pretrained_path)
        self.num_groups = max(groups) + 1
        self.coarse_head = self.build_head(self.num_features, self.num_groups, dropout)
        group_index = torch.tensor(groups, dtype=torch.long)
        # derived from model_kwargs, so not saved in checkpoints
        self.register_buffer("class_to_group", group_index, persistent=False)
        self.register_buffer(
            "membership", F.one_hot(group_index, self.num_groups).T.bool(), persistent=False
        )  # [G, C]

    def build_head(self, in_features: int, num_classes: int, dropout: float) -> nn.Module:
        return nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(in_features, self.hidden),
            nn.ReLU(inplace=True),
            nn.Linear(self.hidden, num_classes),
        )

    def coarse_targets(self, labels: torch.Tensor) -> torch.Tensor:
        """Map fine labels LongTensor[B] to coarse labels (0 = normal, 1 = defect for CT)."""
        return self.class_to_group[labels]

    def combine(self, coarse_logits: torch.Tensor, fine_logits: torch.Tensor) -> torch.Tensor:
        """``log p(group(c)) + log p(c | group(c))`` for every class ``c``, [B, num_classes]."""
        log_coarse = F.log_softmax(coarse_logits, dim=1)  # [B, G]
        masked = fine_logits.unsqueeze(1).masked_fill(~self.membership, float("-inf"))  # [B, G, C]
        group_lse = masked.logsumexp(dim=2)  # [B, G]
        return fine_logits + (log_coarse - group_lse)[:, self.class_to_group]

    def forward_hierarchical(
        self, image: torch.Tensor, meta: torch.Tensor | None = None
    ) -> HierarchicalOutput:
        """Like ``forward`` but also return the coarse and raw fine logits."""
        self.check_inputs(image, meta)
        pooled = self.pooled(self.forward_features(image))
        coarse, fine = self.coarse_head(pooled), self.head(pooled)
        return HierarchicalOutput(self.combine(coarse, fine), coarse, fine)

    def forward_head(self, features: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        pooled = self.pooled(features)
        return self.combine(self.coarse_head(pooled), self.head(pooled))


@register_model("hierarchical")
def hierarchical(
    num_classes: int = 5,
    in_chans: int = 1,
    dropout: float = 0.5,
    groups: Sequence[int] | None = None,
    hidden: int = 256,
    output_stride: int = 32,
    pretrained_path: str | Path | None = None,
    backbone: str = "resnet18",
) -> HierarchicalClassifier:
    """ResNet-18 with coarse (normal/defect) and fine heads; returns combined class logits."""
    return HierarchicalClassifier(
        num_classes, in_chans, backbone, dropout, groups, hidden, output_stride, pretrained_path
    )
