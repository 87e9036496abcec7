"""``cbam``: ResNet-18 with CBAM attention after layer3 and layer4 (seed 002 §1-1).

CBAM (Woo et al., 2018) re-weights a feature map first per channel (average- and max-pooled
descriptors through a shared MLP) and then per position (channel-wise mean and max through a
7x7 convolution).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from models.ct_cnn.registry import register_model
from models.ct_cnn.resnet import ResNetClassifier


class ChannelAttention(nn.Module):
    """``x * sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))`` with a shared bottleneck MLP."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = self.mlp(x.mean(dim=(2, 3), keepdim=True))
        mx = self.mlp(x.amax(dim=(2, 3), keepdim=True))
        return x * torch.sigmoid(avg + mx)


class SpatialAttention(nn.Module):
    """``x * sigmoid(conv7x7([mean_c(x), max_c(x)]))``."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class CBAM(nn.Module):
    """Convolutional Block Attention Module: channel attention, then spatial attention."""

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7) -> None:
        super().__init__()
        self.channel = ChannelAttention(channels, reduction)
        self.spatial = SpatialAttention(kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial(self.channel(x))


class CBAMClassifier(ResNetClassifier):
    """ResNet with ``CBAM`` after layer3 (256 ch) and layer4 (512 ch); dropout + FC head.

    Args:
        num_classes: Number of logits.
        in_chans: Image channels.
        backbone: ``"resnet18"`` or ``"resnet34"``.
        dropout: Dropout before the classifier (0.3 in the seed).
        reduction: Channel-attention bottleneck ratio.
        output_stride: Output stride of the backbone.
        pretrained_path: Optional local ``.safetensors`` ResNet state dict for the backbone
            (the CBAM modules start from scratch).
    """

    def __init__(
        self,
        num_classes: int = 5,
        in_chans: int = 1,
        backbone: str = "resnet18",
        dropout: float = 0.3,
        reduction: int = 16,
        output_stride: int = 32,
        pretrained_path: str | Path | None = None,
    ) -> None:
        super().__init__(num_classes, in_chans, backbone, dropout, output_stride, pretrained_path)
        self.cbam3 = CBAM(self.backbone.channels[2], reduction)
        self.cbam4 = CBAM(self.backbone.channels[3], reduction)

    @property
    def target_layer(self) -> nn.Module:
        """``cbam4``: the attended layer4 map."""
        return self.cbam4

    def forward_features(self, image: torch.Tensor) -> torch.Tensor:
        b = self.backbone
        x = b.layer2(b.layer1(b.stem(image)))
        x = self.cbam3(b.layer3(x))
        return self.cbam4(b.layer4(x))


@register_model("cbam")
def cbam(
    num_classes: int = 5,
    in_chans: int = 1,
    dropout: float = 0.3,
    reduction: int = 16,
    output_stride: int = 32,
    pretrained_path: str | Path | None = None,
    backbone: str = "resnet18",
) -> CBAMClassifier:
    """ResNet-18 + CBAM(layer3, layer4) + dropout FC."""
    return CBAMClassifier(num_classes, in_chans, backbone, dropout, reduction, output_stride, pretrained_path)
