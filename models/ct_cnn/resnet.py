"""``resnet18``: a ResNet trunk, global average pooling and a dropout + linear classifier.

This is the seed's "Basic CNN" (ResNet18 + dropout FC) and the base class of the other
ResNet-based families (``late_fusion``, ``cbam``, ``hierarchical``), which only change the
feature map or the head.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from core.errors import ConfigError
from models.backbones import create_backbone
from models.ct_cnn.base import CTClassifier
from models.ct_cnn.registry import register_model


def check_dropout(p: float) -> float:
    """Return ``p`` if it is a valid dropout probability.

    Raises:
        ConfigError: ``p`` is outside [0, 1).
    """
    if not 0.0 <= p < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {p}.")
    return p


class ResNetClassifier(CTClassifier):
    """ResNet feature extractor + global average pooling + ``Dropout -> Linear``.

    Args:
        num_classes: Number of logits.
        in_chans: Image channels (1 for CT; the stem is built for it).
        backbone: ``"resnet18"`` or ``"resnet34"``.
        dropout: Dropout before the classifier.
        output_stride: 32, 16 or 8 (dilated last stages, larger Grad-CAM maps).
        pretrained_path: Optional local ``.safetensors`` ResNet state dict for the backbone.
    """

    def __init__(
        self,
        num_classes: int = 5,
        in_chans: int = 1,
        backbone: str = "resnet18",
        dropout: float = 0.5,
        output_stride: int = 32,
        pretrained_path: str | Path | None = None,
    ) -> None:
        super().__init__(num_classes, in_chans)
        self.backbone = create_backbone(
            backbone, in_chans=in_chans, output_stride=output_stride, pretrained_path=pretrained_path
        )
        self.num_features = self.backbone.num_features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = self.build_head(self.num_features, num_classes, check_dropout(dropout))

    def build_head(self, in_features: int, num_classes: int, dropout: float) -> nn.Module:
        """The classifier on the pooled features; subclasses replace it."""
        return nn.Sequential(nn.Dropout(dropout), nn.Linear(in_features, num_classes))

    @property
    def target_layer(self) -> nn.Module:
        """``backbone.layer4`` (the last feature map, as in the seed's Grad-CAM)."""
        return self.backbone.layer4

    def forward_features(self, image: torch.Tensor) -> torch.Tensor:
        return self.backbone.forward_features(image)

    def pooled(self, features: torch.Tensor) -> torch.Tensor:
        """Global average pooling: [B, C, h, w] -> [B, C]."""
        return self.pool(features).flatten(1)

    def forward_head(self, features: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.pooled(features))


@register_model("resnet18")
def resnet18(
    num_classes: int = 5,
    in_chans: int = 1,
    dropout: float = 0.5,
    output_stride: int = 32,
    pretrained_path: str | Path | None = None,
    backbone: str = "resnet18",
) -> ResNetClassifier:
    """ResNet-18 + dropout FC (``backbone="resnet34"`` gives the deeper trunk)."""
    return ResNetClassifier(num_classes, in_chans, backbone, dropout, output_stride, pretrained_path)
