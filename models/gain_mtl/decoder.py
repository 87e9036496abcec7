"""A light FPN-style decoder that fuses the encoder stages into one fine feature map.

Porosity voids are a few pixels wide; a stride-32 map (4x4 at 128 px) cannot outline them.
The decoder adds the deep, semantic maps top-down onto the shallow, precise ones (as a feature
pyramid network does) and, when ``out_stride`` is finer than the shallowest encoder stage, a
small full-resolution *detail* branch on the input image brings the last factor of resolution.
Both the class-activation map and the localisation head read this one map.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError

# The one default stride of the fused map (hence of the CAM and the localisation map), used by
# MultiScaleDecoder, GainMTL and the training config: 1 = input resolution. Porosity voids are a
# few pixels wide; on val, Energy-Inside was 0.73 at stride 2 and 0.88 at stride 1.
DEFAULT_DECODER_STRIDE = 1


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1) -> nn.Sequential:
    """``Conv2d -> BatchNorm2d -> ReLU`` with 'same' padding."""
    return nn.Sequential(
        nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, bias=False
        ),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class MultiScaleDecoder(nn.Module):
    """Top-down fusion of encoder maps to a single map at ``out_stride``.

    Args:
        in_channels: Channels of the encoder maps, shallow to deep.
        reductions: Stride of each encoder map.
        channels: Channels of the fused pyramid map.
        out_stride: Stride of the output map; 1, 2 or any encoder stride. Strides finer than
            the shallowest encoder map add a detail branch on the input image.
        in_chans: Channels of the input image (used by the detail branch).
        detail_channels: Width of the detail branch and of the output map when it is used
            (kept small: full-resolution convolutions dominate the cost on CPU).

    Attributes:
        out_channels: Channels of the output map.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        reductions: Sequence[int],
        channels: int = 64,
        out_stride: int = DEFAULT_DECODER_STRIDE,
        in_chans: int = 1,
        detail_channels: int = 16,
    ) -> None:
        super().__init__()
        if len(in_channels) != len(reductions):
            raise ConfigError("decoder needs one stride per encoder map.")
        levels = [i for i, r in enumerate(reductions) if r >= out_stride]
        if not levels:
            raise ConfigError(f"decoder out_stride {out_stride} is coarser than every encoder map.")
        self.levels = levels
        self.out_stride = out_stride
        self.finest = min(reductions[i] for i in levels)
        self.lateral = nn.ModuleList(nn.Conv2d(in_channels[i], channels, 1) for i in levels)
        self.smooth = conv_bn_relu(channels, channels)
        self.detail: nn.Module | None = None
        if out_stride < self.finest:
            if out_stride not in (1, 2):
                raise ConfigError(f"decoder out_stride must be 1, 2 or an encoder stride, got {out_stride}.")
            self.detail = nn.Sequential(
                conv_bn_relu(in_chans, detail_channels, stride=out_stride),
                conv_bn_relu(detail_channels, detail_channels),
            )
            self.project = nn.Conv2d(channels, detail_channels, 1)
            self.refine = conv_bn_relu(detail_channels, detail_channels)
        self.out_channels = detail_channels if self.detail is not None else channels

    def forward(self, image: torch.Tensor, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """Fuse ``features`` (shallow to deep) into ``[B, channels, H/out_stride, W/out_stride]``."""
        x = None
        for lateral, i in zip(reversed(self.lateral), reversed(self.levels)):
            y = lateral(features[i])
            x = (
                y
                if x is None
                else y + F.interpolate(x, size=y.shape[-2:], mode="bilinear", align_corners=False)
            )
        x = self.smooth(x)
        if self.detail is not None:
            detail = self.detail(image)
            x = F.interpolate(self.project(x), size=detail.shape[-2:], mode="bilinear", align_corners=False)
            x = self.refine(x + detail)
        return x
