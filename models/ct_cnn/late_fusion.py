"""``late_fusion``: ResNet-18 image features concatenated with the raw metadata (seed 002, v2).

The 512-d pooled image feature and the raw 2-d ``meta = [battery_type, axis]`` are concatenated
without an encoder (514-d), then classified by ``FC 514->256 -> BN -> ReLU -> Dropout(p)
-> FC 256->128 -> BN -> ReLU -> Dropout(p/2) -> FC 128->num_classes``. The seed found that an
MLP meta encoder (early fusion, v1) over-fits while the raw concat lets the metadata act only as
a hint.

Note: the head has ``BatchNorm1d``, so training needs batches of at least 2 images
(use ``drop_last=True`` in the training loader).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from core.errors import InputError
from models.ct_cnn.registry import register_model
from models.ct_cnn.resnet import ResNetClassifier


class LateFusionClassifier(ResNetClassifier):
    """ResNet features ++ raw meta -> 514 -> 256 -> 128 -> num_classes MLP head.

    Args:
        num_classes: Number of logits.
        in_chans: Image channels.
        backbone: ``"resnet18"`` or ``"resnet34"``.
        dropout: Dropout after the first hidden layer; the second uses half of it
            (0.5 / 0.25 as in the seed).
        hidden: Widths of the two hidden layers.
        output_stride: Output stride of the backbone.
        pretrained_path: Optional local ``.safetensors`` ResNet state dict for the backbone.
    """

    uses_meta = True

    def __init__(
        self,
        num_classes: int = 5,
        in_chans: int = 1,
        backbone: str = "resnet18",
        dropout: float = 0.5,
        hidden: tuple[int, int] = (256, 128),
        output_stride: int = 32,
        pretrained_path: str | Path | None = None,
    ) -> None:
        self.hidden = tuple(hidden)
        super().__init__(num_classes, in_chans, backbone, dropout, output_stride, pretrained_path)

    def build_head(self, in_features: int, num_classes: int, dropout: float) -> nn.Module:
        h1, h2 = self.hidden
        return nn.Sequential(
            nn.Linear(in_features + self.meta_dim, h1),
            nn.BatchNorm1d(h1),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(h1, h2),
            nn.BatchNorm1d(h2),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout / 2),
            nn.Linear(h2, num_classes),
        )

    def forward_head(self, features: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        if meta is None:
            raise InputError("late_fusion needs meta = [battery_type, axis] for every image, got none.")
        fused = torch.cat([self.pooled(features), meta.to(features.dtype)], dim=1)
        return self.head(fused)


@register_model("late_fusion")
def late_fusion(
    num_classes: int = 5,
    in_chans: int = 1,
    dropout: float = 0.5,
    hidden: tuple[int, int] = (256, 128),
    output_stride: int = 32,
    pretrained_path: str | Path | None = None,
    backbone: str = "resnet18",
) -> LateFusionClassifier:
    """Late Fusion v2: ResNet-18 512-d ++ [battery_type, axis] -> 514 -> 256 -> 128 -> classes."""
    return LateFusionClassifier(
        num_classes, in_chans, backbone, dropout, tuple(hidden), output_stride, pretrained_path
    )
