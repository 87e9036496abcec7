"""DRAEM-style autoencoder: a reconstructive ConvAutoEncoder plus a discriminative error head.

Zavrtanik et al., "DRAEM -- A discriminatively trained reconstruction embedding for surface
anomaly detection" (ICCV 2021). The reconstructive part is the seed's ConvAutoEncoder trained as
a denoiser on normal images with synthetic corruptions; the discriminative part is a small
U-Net that looks at the input and its reconstruction side by side and predicts *where they
differ in a way that matters*. Its output replaces the raw squared error as the error map: a
plain autoencoder's error is dominated by edges and text it reconstructs slightly blurred,
which on cluttered photos hides the defects; the head learns to ignore those.

Both parts see normal images only (plus generated corruptions); no defect photo is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError
from models.rgb_ae.autoencoder import ConvAutoEncoder, _conv_bn_relu, _upsample
from models.rgb_ae.registry import register_model

__all__ = ["DRAEM", "DiscriminativeHead", "draem"]


class DiscriminativeHead(nn.Module):
    """Small U-Net: ``[B, 2C, H, W]`` (image ++ reconstruction) -> anomaly logits ``[B, 1, H, W]``.

    Args:
        in_chans: Input channels (twice the image channels).
        channels: Widths of the stride-2 encoder stages; the decoder mirrors them with additive
            skip connections, so the map keeps the stem's resolution.
        stem_stride: 1 keeps the input resolution throughout; 2 runs the whole U-Net at half
            resolution (about 4x cheaper) and upsamples the logits bilinearly at the end.
        stage_convs: 3x3 convolutions per stage (stem and each encoder stage); with 2 or more,
            each decoder stage also refines the sum of its upsampled input and skip with one
            convolution (a classic U-Net block: sharper maps for thin scratches).
    """

    def __init__(
        self,
        in_chans: int = 6,
        channels: Sequence[int] = (16, 32, 64),
        stem_stride: int = 1,
        stage_convs: int = 1,
    ) -> None:
        super().__init__()
        channels = [int(c) for c in channels]
        if not channels or min(channels) < 1:
            raise ConfigError(f"head_channels must be a non-empty list of positive widths, got {channels}.")
        if stem_stride not in (1, 2):
            raise ConfigError(f"head_stem_stride must be 1 or 2, got {stem_stride}.")
        if stage_convs < 1:
            raise ConfigError(f"head_stage_convs must be at least 1, got {stage_convs}.")
        self.stem_stride = stem_stride
        extra = stage_convs - 1

        def stage(a: int, b: int, stride: int) -> nn.Module:
            first = _conv_bn_relu(a, b, stride=stride)  # a bare block when extra == 0: old checkpoints load
            return nn.Sequential(first, *(_conv_bn_relu(b, b) for _ in range(extra))) if extra else first

        self.stem = stage(in_chans, channels[0], stem_stride)
        self.down = nn.ModuleList(stage(a, b, 2) for a, b in zip([channels[0]] + channels[:-1], channels))
        widths = list(reversed(channels))
        targets = widths[1:] + [channels[0]]
        self.up = nn.ModuleList(_upsample(a, b, "transpose") for a, b in zip(widths, targets))
        self.fuse = nn.ModuleList(_conv_bn_relu(b, b) if extra else nn.Identity() for b in targets)
        self.out = nn.Conv2d(channels[0], 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        skips = [h]
        for stage in self.down:
            h = stage(h)
            skips.append(h)
        skips.pop()  # the deepest map is h itself
        for stage, fuse in zip(self.up, self.fuse):
            h = fuse(stage(h) + skips.pop())
        logits = self.out(h)
        if self.stem_stride > 1:
            logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return logits


class DRAEM(nn.Module):
    """Reconstructive :class:`ConvAutoEncoder` + :class:`DiscriminativeHead`.

    ``model(x)`` is the reconstruction (so it trains and scores like any autoencoder);
    :meth:`anomaly_map` is the learned error map in ``[0, 1]`` that the anomaly score uses.

    Args:
        in_chans: Image channels.
        channels: Autoencoder encoder widths.
        latent_channels: Optional 1x1 bottleneck width of the autoencoder.
        upsample: Autoencoder upsampling (``transpose`` or ``nearest``).
        head_channels: Widths of the discriminative U-Net.
        head_stem_stride: 2 runs the discriminative U-Net at half resolution (see
            :class:`DiscriminativeHead`).
        head_stage_convs: Convolutions per head stage (see :class:`DiscriminativeHead`).
        head_input: ``"both"`` (DRAEM: image ++ reconstruction) or ``"image"`` (the head sees the
            image only; the reconstruction is still trained and returned by ``forward``). With
            a CPU training budget the reconstruction stays blurry everywhere, and a head that
            sees it learns "image differs from reconstruction", i.e. flags all structure.
    """

    def __init__(
        self,
        in_chans: int = 3,
        channels: Sequence[int] = (32, 64, 128),
        latent_channels: int | None = None,
        upsample: str = "transpose",
        head_channels: Sequence[int] = (16, 32, 64),
        head_stem_stride: int = 1,
        head_input: str = "both",
        head_stage_convs: int = 1,
    ) -> None:
        super().__init__()
        if head_input not in ("both", "image"):
            raise ConfigError(f"head_input must be 'both' or 'image', got {head_input!r}.")
        self.head_input = head_input
        head_chans = 2 * in_chans if head_input == "both" else in_chans
        self.reconstructive = ConvAutoEncoder(in_chans, channels, latent_channels, upsample=upsample)
        self.discriminative = DiscriminativeHead(
            head_chans, head_channels, head_stem_stride, head_stage_convs
        )
        self.downsample_factor = max(
            self.reconstructive.downsample_factor, head_stem_stride * 2 ** len(head_channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct ``x``."""
        return self.reconstructive(x)

    def segment(self, x: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
        """Anomaly logits ``[B, 1, H, W]`` from an image and (unless ``head_input`` is ``image``)
        its reconstruction."""
        if self.head_input == "image":
            return self.discriminative(x)
        return self.discriminative(torch.cat([x, reconstruction], dim=1))

    def anomaly_map(self, x: torch.Tensor) -> torch.Tensor:
        """Learned error map ``[B, H, W]`` in ``[0, 1]`` (probability that a pixel is anomalous)."""
        reconstruction = x if self.head_input == "image" else self.reconstructive(x)
        return torch.sigmoid(self.segment(x, reconstruction))[:, 0]


@register_model("draem")
def draem(
    in_chans: int = 3,
    channels: Sequence[int] = (32, 64, 128),
    latent_channels: int | None = None,
    upsample: str = "transpose",
    head_channels: Sequence[int] = (16, 32, 64),
) -> DRAEM:
    """ConvAutoEncoder (three stages, no squeeze) with a DRAEM discriminative error head."""
    return DRAEM(in_chans, channels, latent_channels, upsample, head_channels)


@register_model("draem_fast")
def draem_fast(
    in_chans: int = 3,
    channels: Sequence[int] = (16, 32, 64, 64),
    latent_channels: int | None = 32,
    upsample: str = "transpose",
    head_channels: Sequence[int] = (24, 32, 48, 64),
    head_stem_stride: int = 2,
    head_input: str = "both",
    head_stage_convs: int = 1,
) -> DRAEM:
    """CPU-sized DRAEM: a compact autoencoder and a four-stage U-Net head run at half resolution.

    The deeper head sees ~60 px of context at 128 px input (enough to tell a label edge from a
    stain), and at half resolution a training step costs a fraction of :func:`draem`'s, so it can
    be trained for thousands of steps on a shared CPU.
    """
    return DRAEM(
        in_chans,
        channels,
        latent_channels,
        upsample,
        head_channels,
        head_stem_stride,
        head_input,
        head_stage_convs,
    )
