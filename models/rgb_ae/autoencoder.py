"""ConvAutoEncoder (seed 002 §2): a strided-conv encoder and its mirrored upsampling decoder.

Seed layout: encoder channels ``[3, 64, 128, 256, 512]`` (each stage halves the resolution),
decoder ``[512, 256, 128, 64, 3]``, trained with MSE on normal images only so that defects
reconstruct badly. ``conv_ae`` is that layout; ``conv_ae_compact`` halves the widths and adds a
1x1 bottleneck, which is cheaper on a CPU and forces a tighter model of "normal".
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from core.errors import ConfigError
from models.rgb_ae.registry import register_model

__all__ = ["ConvAutoEncoder", "conv_ae", "conv_ae_compact"]


def _conv_bn_relu(in_ch: int, out_ch: int, stride: int = 1, kernel_size: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


def _upsample(in_ch: int, out_ch: int, mode: str) -> nn.Sequential:
    """Double the resolution: ``transpose`` (2x2 stride-2 transposed conv: non-overlapping, so
    no checkerboard, and 9x cheaper than a 3x3 conv at the output size) or ``nearest``
    (nearest-neighbour upsampling followed by a 3x3 conv).
    """
    if mode == "transpose":
        up: nn.Module = nn.ConvTranspose2d(in_ch, out_ch, kernel_size=2, stride=2, bias=False)
        return nn.Sequential(up, nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True))
    if mode == "nearest":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), *_conv_bn_relu(in_ch, out_ch))
    raise ConfigError(f"upsample must be 'transpose' or 'nearest', got {mode!r}.")


class ConvAutoEncoder(nn.Module):
    """Convolutional autoencoder for images in ``[0, 1]``.

    Each encoder stage is a stride-2 ``Conv3x3-BN-ReLU`` (plus ``depth - 1`` stride-1 convs);
    each decoder stage doubles the resolution (see ``upsample``) into the mirrored width (plus
    ``depth - 1`` convs). A final 3x3 conv maps to ``in_chans`` through a sigmoid.

    Args:
        in_chans: Image channels (3 for RGB).
        channels: Encoder widths; the resolution is divided by ``2 ** len(channels)``.
        latent_channels: If set, a 1x1 conv squeezes the deepest features to this many
            channels (and back) -- a narrower bottleneck. ``None`` keeps the seed's layout.
        depth: Convolutions per stage (1 in the seed).
        upsample: ``"transpose"`` or ``"nearest"`` (see :func:`_upsample`).
        skip: Add encoder feature maps to the decoder maps of the same resolution (U-Net style,
            additive), except the shallowest one (it would let pixels be copied straight
            through). Structure then no longer has to pass the bottleneck, so normal images
            reconstruct sharply; this only makes sense for a *denoising* autoencoder (trained
            with ``corrupt.p > 0``), which otherwise would learn to copy defects too.

    Input height and width must be multiples of :attr:`downsample_factor`.
    """

    def __init__(
        self,
        in_chans: int = 3,
        channels: Sequence[int] = (64, 128, 256, 512),
        latent_channels: int | None = None,
        depth: int = 1,
        upsample: str = "transpose",
        skip: bool = False,
    ) -> None:
        super().__init__()
        channels = [int(c) for c in channels]
        if not channels or min(channels) < 1 or in_chans < 1:
            raise ConfigError(f"channels must be a non-empty list of positive widths, got {channels}.")
        if depth < 1:
            raise ConfigError(f"depth must be at least 1, got {depth}.")
        if latent_channels is not None and latent_channels < 1:
            raise ConfigError(f"latent_channels must be positive, got {latent_channels}.")
        self.in_chans = in_chans
        self.channels = tuple(channels)
        self.latent_channels = latent_channels
        self.skip = skip
        self.downsample_factor = 2 ** len(channels)

        encoder: list[nn.Module] = []
        prev = in_chans
        for width in channels:
            stage = [_conv_bn_relu(prev, width, stride=2)]
            stage += [_conv_bn_relu(width, width) for _ in range(depth - 1)]
            encoder.append(nn.Sequential(*stage))
            prev = width
        self.encoder = nn.Sequential(*encoder)
        if latent_channels is not None:
            self.bottleneck = nn.Sequential(
                _conv_bn_relu(prev, latent_channels, kernel_size=1),
                _conv_bn_relu(latent_channels, prev, kernel_size=1),
            )
        else:
            self.bottleneck = nn.Identity()

        decoder: list[nn.Module] = []
        widths = list(reversed(channels))  # e.g. 512, 256, 128, 64
        for width, out in zip(widths, widths[1:] + [widths[-1]]):
            stage: list[nn.Module] = [_upsample(width, out, upsample)]
            stage += [_conv_bn_relu(out, out) for _ in range(depth - 1)]
            decoder.append(nn.Sequential(*stage))
        self.decoder = nn.Sequential(*decoder)
        self.head = nn.Sequential(nn.Conv2d(widths[-1], in_chans, 3, padding=1), nn.Sigmoid())

    def _check_size(self, x: torch.Tensor) -> None:
        h, w = x.shape[-2:]
        f = self.downsample_factor
        if h % f or w % f:
            raise ValueError(f"input size {h}x{w} must be a multiple of {f} for this autoencoder")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``[B, C, H, W]`` -> deepest features ``[B, channels[-1], H / f, W / f]``."""
        self._check_size(x)
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct ``x`` (same shape, values in ``[0, 1]``)."""
        self._check_size(x)
        features = []
        h = x
        for stage in self.encoder:
            h = stage(h)
            features.append(h)
        h = self.bottleneck(h)
        for i, stage in enumerate(self.decoder):
            h = stage(h)
            if self.skip and i + 3 <= len(features):  # never the shallowest map
                h = h + features[-(i + 2)]
        return self.head(h)


@register_model("conv_ae")
def conv_ae(
    in_chans: int = 3,
    channels: Sequence[int] = (64, 128, 256, 512),
    latent_channels: int | None = None,
    depth: int = 1,
    upsample: str = "transpose",
    skip: bool = False,
) -> ConvAutoEncoder:
    """The seed's ConvAutoEncoder: encoder ``[3, 64, 128, 256, 512]``, mirrored decoder."""
    return ConvAutoEncoder(in_chans, channels, latent_channels, depth, upsample, skip)


@register_model("conv_ae_compact")
def conv_ae_compact(
    in_chans: int = 3,
    channels: Sequence[int] = (32, 64, 128, 256),
    latent_channels: int | None = 64,
    depth: int = 1,
    upsample: str = "transpose",
    skip: bool = False,
) -> ConvAutoEncoder:
    """Half-width ConvAutoEncoder with a 1x1 bottleneck (about 4x fewer FLOPs than ``conv_ae``)."""
    return ConvAutoEncoder(in_chans, channels, latent_channels, depth, upsample, skip)
