"""ResNet-18/34 feature extractor with a native ``in_chans`` stem and DRN-style dilation.

The module and parameter names follow torchvision / timm (``conv1``, ``bn1``, ``layer1.0.conv1``,
``layer2.0.downsample.0``, ...), so a ResNet state dict exported from either library loads
directly (see :mod:`models.backbones.pretrained`).

``output_stride`` 16 or 8 replaces the stride of the last one or two stages by dilation, as in
dilated residual networks (Yu et al., 2017) and DeepLab: the spatial size of the deep feature
maps grows while the receptive field is kept. torchvision's ``BasicBlock`` refuses dilation, so
the block is written here.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from core.errors import ConfigError

# output_stride -> dilation of (layer3, layer4); layer1/layer2 are never dilated.
_DILATIONS: dict[int, tuple[int, int]] = {32: (1, 1), 16: (1, 2), 8: (2, 4)}


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection; supports dilation.

    Args:
        in_channels: Input channels.
        channels: Output channels.
        stride: Stride of the first convolution (1 or 2).
        dilation: Dilation of the second convolution (and of the first, see ``first_dilation``).
        first_dilation: Dilation of the first convolution; defaults to ``dilation``. The first
            block of a newly dilated stage uses the previous dilation so that the receptive
            field grows smoothly (as in torchvision's ``replace_stride_with_dilation``).
    """

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        dilation: int = 1,
        first_dilation: int | None = None,
    ) -> None:
        super().__init__()
        first_dilation = first_dilation or dilation
        self.conv1 = nn.Conv2d(
            in_channels,
            channels,
            3,
            stride=stride,
            padding=first_dilation,
            dilation=first_dilation,
            bias=False,
        )
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


class ResNetFeatures(nn.Module):
    """A ResNet trunk without its classifier that returns the four stage feature maps.

    Args:
        layers: Number of blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        in_chans: Input channels (1 for a grayscale CT slice; the stem is built for it).
        output_stride: Total stride of the last map: 32 (standard), 16 or 8 (dilated).
        zero_init_residual: Initialise the last BN of each block to zero so every residual
            branch starts as the identity.

    Attributes:
        channels: Channels of the four stage outputs, ``[64, 128, 256, 512]``.
        reductions: Stride of each stage output relative to the input.
        num_features: Channels of the last map (512).
        output_stride: As given.
    """

    def __init__(
        self,
        layers: Sequence[int] = (2, 2, 2, 2),
        in_chans: int = 1,
        output_stride: int = 32,
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        if output_stride not in _DILATIONS:
            raise ConfigError(f"output_stride must be one of {sorted(_DILATIONS)}, got {output_stride}.")
        if in_chans < 1:
            raise ConfigError(f"in_chans must be at least 1, got {in_chans}.")
        self.in_chans = in_chans
        self.output_stride = output_stride
        self.channels = [64, 128, 256, 512]
        self.num_features = self.channels[-1]

        self.conv1 = nn.Conv2d(in_chans, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)

        dil3, dil4 = _DILATIONS[output_stride]
        in_ch = 64
        stages = []
        # (channels, stride, dilation, dilation of the first block's first conv)
        plan = [(64, 1, 1, 1), (128, 2, 1, 1), (256, 2, 1, 1), (512, 2, 1, 1)]
        if dil3 > 1:
            plan[2] = (256, 1, dil3, 1)
        if dil4 > 1:
            plan[3] = (512, 1, dil4, dil3)
        for (ch, stride, dilation, first_dilation), n_blocks in zip(plan, layers):
            blocks = [BasicBlock(in_ch, ch, stride, dilation, first_dilation)]
            blocks += [BasicBlock(ch, ch, 1, dilation) for _ in range(n_blocks - 1)]
            stages.append(nn.Sequential(*blocks))
            in_ch = ch
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.reductions = [4, 8, min(16, output_stride), output_stride]
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        """Apply conv1 -> bn -> relu -> maxpool (stride 4)."""
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the outputs of layer1..layer4.

        Args:
            x: Images, FloatTensor[B, in_chans, H, W].

        Returns:
            Four maps with ``self.channels`` channels at strides ``self.reductions``.
        """
        x = self.stem(x)
        features = []
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)
            features.append(x)
        return features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Return only the last (layer4) map, FloatTensor[B, 512, H/os, W/os]."""
        return self.forward(x)[-1]


def resnet18_features(in_chans: int = 1, output_stride: int = 32, **kwargs) -> ResNetFeatures:
    """ResNet-18 trunk (11.2 M parameters with a 1-channel stem)."""
    return ResNetFeatures((2, 2, 2, 2), in_chans=in_chans, output_stride=output_stride, **kwargs)


def resnet34_features(in_chans: int = 1, output_stride: int = 32, **kwargs) -> ResNetFeatures:
    """ResNet-34 trunk (21.3 M parameters with a 1-channel stem)."""
    return ResNetFeatures((3, 4, 6, 3), in_chans=in_chans, output_stride=output_stride, **kwargs)
