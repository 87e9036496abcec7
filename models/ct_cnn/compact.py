"""``compact``: a small VGG-style CNN with global max pooling and late-fused metadata.

Porosity voids cover a few dozen pixels of a 128 px slice. Global *average* pooling dilutes
such a local cue by the whole map area, so a from-scratch ResNet-18 needs many epochs before
it notices the voids; global *max* pooling passes the strongest local response straight to
the classifier, which makes small-defect detection learnable in a CPU budget. The pooled
feature is concatenated with the raw ``meta = [battery_type, axis]`` as in Late Fusion v2.
"""

from __future__ import annotations

import torch
from torch import nn

from models.ct_cnn.base import CTClassifier
from models.ct_cnn.registry import register_model


def _conv_block(in_chans: int, out_chans: int) -> nn.Sequential:
    """Two 3x3 conv-BN-ReLU layers at one resolution."""
    return nn.Sequential(
        nn.Conv2d(in_chans, out_chans, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_chans),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_chans, out_chans, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_chans),
        nn.ReLU(inplace=True),
    )


class CompactClassifier(CTClassifier):
    """Conv blocks (each halving the resolution but the last) -> global max (+avg) pool ++ meta -> FC.

    Args:
        num_classes: Number of logits.
        in_chans: Image channels.
        widths: Output channels of each conv block.
        pool: ``"max"`` or ``"avgmax"`` (concatenation of average and max pooling).
        dropout: Dropout before the classifier.
        use_meta: Concatenate ``meta`` to the pooled feature (then ``meta`` is required).
    """

    default_input_size = 128

    def __init__(
        self,
        num_classes: int = 5,
        in_chans: int = 1,
        widths: tuple[int, ...] = (24, 48, 96, 128, 192),
        pool: str = "max",
        dropout: float = 0.2,
        use_meta: bool = True,
    ) -> None:
        super().__init__(num_classes, in_chans)
        if pool not in ("max", "avgmax"):
            raise ValueError(f"pool must be 'max' or 'avgmax', got {pool!r}")
        self.uses_meta = use_meta
        self.pool = pool
        layers: list[nn.Module] = []
        chans = in_chans
        for i, width in enumerate(widths):
            layers.append(_conv_block(chans, width))
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            chans = width
        self.features = nn.Sequential(*layers)
        pooled = chans * (2 if pool == "avgmax" else 1)
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(pooled + (self.meta_dim if use_meta else 0), num_classes)
        )

    @property
    def target_layer(self) -> nn.Module:
        return self.features[-1]

    def forward_features(self, image: torch.Tensor) -> torch.Tensor:
        return self.features(image)

    def forward_head(self, features: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        pooled = features.amax(dim=(2, 3))
        if self.pool == "avgmax":
            pooled = torch.cat([pooled, features.mean(dim=(2, 3))], dim=1)
        if self.uses_meta:
            pooled = torch.cat([pooled, meta.to(pooled.dtype)], dim=1)
        return self.head(pooled)


@register_model("compact")
def compact(
    num_classes: int = 5,
    in_chans: int = 1,
    widths: tuple[int, ...] = (24, 48, 96, 128, 192),
    pool: str = "max",
    dropout: float = 0.2,
    use_meta: bool = True,
) -> CompactClassifier:
    """Small max-pooled CNN (~0.9 M parameters) with late-fused metadata; fast on CPU."""
    return CompactClassifier(num_classes, in_chans, tuple(widths), pool, dropout, use_meta)
