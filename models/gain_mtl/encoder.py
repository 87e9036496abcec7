"""Multi-scale encoders for GAIN-MTL, created by name.

``resnet18`` / ``resnet34`` use the shared trunk of :mod:`models.backbones` (native ``in_chans``
stem, DRN-style dilation for ``output_stride`` 16 or 8). With ``width`` other than 64 the same
ResNet layout is built with every stage ``width / 64`` as wide (timm's ``ResNet`` with scaled
``channels``): ``width=32`` costs about a quarter of the compute, which is what a shared 2-core
CPU affords for an eight-strategy ablation. Any other name is built with timm's
``features_only`` interface (for example ``tf_efficientnetv2_b0`` as in seed 000); weights are
never downloaded, so timm encoders start from scratch unless a local file is given.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from core.errors import ConfigError
from models.backbones import create_backbone, list_backbones


class TimmEncoder(nn.Module):
    """A timm model in ``features_only`` mode that returns its stage maps.

    Args:
        name: timm model name, e.g. ``"tf_efficientnetv2_b0"``.
        in_chans: Input channels.
        output_stride: 32, 16 or 8 (timm dilates the last stages where the family supports it).
        pretrained_path: Optional local weights file (``pretrained_cfg_overlay``); never downloaded.

    Attributes:
        channels: Channels of every returned map.
        reductions: Stride of every returned map relative to the input.
    """

    def __init__(
        self,
        name: str,
        in_chans: int = 1,
        output_stride: int = 32,
        pretrained_path: str | Path | None = None,
    ) -> None:
        super().__init__()
        import timm

        if name not in timm.list_models():
            raise ConfigError(f"unknown encoder {name!r}; use resnet18, resnet34 or a timm model name.")
        kwargs = {"features_only": True, "in_chans": in_chans, "output_stride": output_stride}
        if pretrained_path is not None:
            if not Path(pretrained_path).is_file():
                raise ConfigError(f"encoder weights {pretrained_path} do not exist.")
            kwargs.update(pretrained=True, pretrained_cfg_overlay={"file": str(pretrained_path)})
        self.model = timm.create_model(name, **kwargs)
        info = self.model.feature_info
        self.channels = list(info.channels())
        self.reductions = list(info.reduction())

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the stage maps, shallow to deep."""
        return list(self.model(x))


class ScaledResNetEncoder(nn.Module):
    """A ResNet-18/34 layout with scaled widths ``(w, 2w, 4w, 8w)``, returning the stage maps.

    Args:
        layers: Blocks per stage, ``(2, 2, 2, 2)`` for ResNet-18.
        width: Channels of the first stage ``w``.
        in_chans: Input channels.
        output_stride: 32, 16 or 8 (dilated last stages).
    """

    def __init__(
        self, layers: tuple[int, ...], width: int, in_chans: int = 1, output_stride: int = 32
    ) -> None:
        super().__init__()
        from timm.models.resnet import BasicBlock, ResNet

        channels = tuple(width * 2**i for i in range(4))
        self.net = ResNet(
            BasicBlock,
            list(layers),
            num_classes=0,
            in_chans=in_chans,
            output_stride=output_stride,
            stem_width=width,
            channels=channels,
        )
        self.channels = list(channels)
        self.reductions = [4, 8, min(16, output_stride), output_stride]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the outputs of layer1..layer4."""
        net = self.net
        x = net.maxpool(net.act1(net.bn1(net.conv1(x))))
        features = []
        for stage in (net.layer1, net.layer2, net.layer3, net.layer4):
            x = stage(x)
            features.append(x)
        return features


_RESNET_LAYERS = {"resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3)}


def create_encoder(
    name: str = "resnet18",
    in_chans: int = 1,
    output_stride: int = 32,
    pretrained_path: str | Path | None = None,
    width: int = 64,
) -> nn.Module:
    """Build a multi-scale encoder with ``channels`` and ``reductions`` attributes.

    Args:
        name: ``resnet18``/``resnet34`` (shared trunk) or any timm model name.
        in_chans: Input channels (1 for CT).
        output_stride: Stride of the deepest map (32, 16 or 8).
        pretrained_path: Optional local weights file.
        width: First-stage width of ``resnet18``/``resnet34`` (64 = the standard network).

    Returns:
        A module whose ``forward(x)`` returns a list of maps, shallow to deep.

    Raises:
        ConfigError: Unknown name or invalid option.
    """
    if name in _RESNET_LAYERS and width != 64:
        if pretrained_path is not None:
            raise ConfigError("pretrained weights need the standard width 64.")
        if width <= 0:
            raise ConfigError(f"encoder width must be positive, got {width}.")
        return ScaledResNetEncoder(_RESNET_LAYERS[name], width, in_chans, output_stride)
    if name in list_backbones():
        return create_backbone(
            name, in_chans=in_chans, output_stride=output_stride, pretrained_path=pretrained_path
        )
    return TimmEncoder(name, in_chans=in_chans, output_stride=output_stride, pretrained_path=pretrained_path)
