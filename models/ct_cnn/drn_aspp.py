"""``drn_aspp``: dilated ResNet-18 + ASPP with depthwise-separable atrous convolutions.

The trunk keeps a stride-16 (or stride-8, DRN) map by dilating its last stages
(:class:`~models.backbones.resnet.ResNetFeatures`); Atrous Spatial Pyramid Pooling (DeepLabv3)
then looks at that map at several dilation rates at once plus a global image descriptor, which
gives the multi-scale features the seed credits for the best image-only score.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError
from models.ct_cnn.registry import register_model
from models.ct_cnn.resnet import ResNetClassifier


class SeparableConvBNReLU(nn.Sequential):
    """Depthwise 3x3 atrous conv -> BN -> pointwise 1x1 conv -> BN -> ReLU (DeepLabv3+ style)."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int) -> None:
        super().__init__(
            nn.Conv2d(
                in_channels,
                in_channels,
                3,
                padding=dilation,
                dilation=dilation,
                groups=in_channels,
                bias=False,
            ),
            nn.BatchNorm2d(in_channels),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class ASPPPooling(nn.Module):
    """Image-level branch: global average -> 1x1 conv -> ReLU -> broadcast back to the map size.

    No BatchNorm here: on a 1x1 map it would fail for training batches of one image.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.relu(self.conv(F.adaptive_avg_pool2d(x, 1)))
        return pooled.expand(-1, -1, *x.shape[-2:])


class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling with depthwise-separable atrous branches.

    Args:
        in_channels: Channels of the input map.
        out_channels: Channels of every branch and of the output.
        atrous_rates: Dilation of each separable 3x3 branch (a 1x1 branch and the image-level
            branch are always added).
        dropout: Dropout after the 1x1 projection of the concatenated branches.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 256,
        atrous_rates: Sequence[int] = (6, 12, 18),
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if not atrous_rates or any(int(r) < 1 for r in atrous_rates):
            raise ConfigError(f"atrous_rates must be positive integers, got {list(atrous_rates)}.")
        branches: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True),
            )
        ]
        branches += [SeparableConvBNReLU(in_channels, out_channels, int(r)) for r in atrous_rates]
        branches.append(ASPPPooling(in_channels, out_channels))
        self.branches = nn.ModuleList(branches)
        self.project = nn.Sequential(
            nn.Conv2d(out_channels * len(branches), out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
        )
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([branch(x) for branch in self.branches], dim=1))


class DRNASPPClassifier(ResNetClassifier):
    """Dilated ResNet + ASPP + global average pooling + dropout FC.

    Args:
        num_classes: Number of logits.
        in_chans: Image channels.
        backbone: ``"resnet18"`` or ``"resnet34"``.
        dropout: Dropout before the classifier.
        output_stride: 16 (default, cheaper on CPU) or 8 (DRN proper).
        atrous_rates: ASPP dilation rates. DeepLabv3's (6, 12, 18) at stride 16 spans a 33x33
            map (513 px input); the default (3, 6, 9) scales that to the 10-20 px maps of
            160-320 px CT inputs. Double the rates at stride 8.
        aspp_channels: Channels of the ASPP branches and output.
        pretrained_path: Optional local ``.safetensors`` ResNet state dict for the backbone.
    """

    def __init__(
        self,
        num_classes: int = 5,
        in_chans: int = 1,
        backbone: str = "resnet18",
        dropout: float = 0.5,
        output_stride: int = 16,
        atrous_rates: Sequence[int] = (3, 6, 9),
        aspp_channels: int = 256,
        pretrained_path: str | Path | None = None,
    ) -> None:
        if output_stride == 32:
            raise ConfigError("drn_aspp needs a dilated backbone: output_stride must be 16 or 8.")
        super().__init__(num_classes, in_chans, backbone, dropout, output_stride, pretrained_path)
        self.aspp = ASPP(self.num_features, aspp_channels, atrous_rates)
        self.num_features = aspp_channels
        self.head = self.build_head(aspp_channels, num_classes, dropout)

    @property
    def target_layer(self) -> nn.Module:
        """``aspp``: the multi-scale map at the backbone's output stride."""
        return self.aspp

    def forward_features(self, image: torch.Tensor) -> torch.Tensor:
        return self.aspp(self.backbone.forward_features(image))


@register_model("drn_aspp")
def drn_aspp(
    num_classes: int = 5,
    in_chans: int = 1,
    dropout: float = 0.5,
    output_stride: int = 16,
    atrous_rates: Sequence[int] = (3, 6, 9),
    aspp_channels: int = 256,
    pretrained_path: str | Path | None = None,
    backbone: str = "resnet18",
) -> DRNASPPClassifier:
    """Dilated ResNet-18 (stride 16 or 8) + separable-conv ASPP + dropout FC."""
    return DRNASPPClassifier(
        num_classes,
        in_chans,
        backbone,
        dropout,
        output_stride,
        tuple(atrous_rates),
        aspp_channels,
        pretrained_path,
    )
