"""``compact_seg``: the ``compact`` encoder with a defect-segmentation decoder that drives the verdict.

A classifier trained on slice labels alone learns whatever separates the classes in its own
generator; on another scanner it finds "voids" in potting gaps and streaks. Here the decision
has to go through a segmentation: a small top-down decoder (feature-pyramid style) fuses the
encoder's stride-4/8/16 maps into one stride-4 map, a 1x1 head turns it into defect logits per
position (trained on the generator masks, ``loss.mask_weight``), and the classifier reads

- the strongest defect logit anywhere (how sure the map is that *some* region is a defect),
- the features *at* the defect region (softmax attention over the defect logits: what the
  region looks like, e.g. a round void in a coating versus resin outside a case),
- and the global max-pooled features (cell or module, and the context).

The stride-4 map is also the Grad-CAM target layer, so attention maps are 4x finer than the
``compact`` model's. The encoder's parameter names are those of ``compact``, so a ``compact``
checkpoint warm-starts it (``model.init_partial``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.ct_cnn.compact import CompactClassifier, _conv_block
from models.ct_cnn.registry import register_model

# Indices of the conv blocks in ``CompactClassifier.features`` (blocks and max-pools alternate),
# for the five default widths: strides 1, 2, 4, 8, 16.
_BLOCK_INDICES = (0, 2, 4, 6, 8)
_DECODER_FROM = 2  # the decoder starts at the stride-4 block


class CompactSegClassifier(CompactClassifier):
    """Compact encoder -> top-down decoder (stride 4) -> defect logits + pooled features -> FC.

    Args:
        num_classes: Number of logits.
        in_chans: Image channels.
        widths: Output channels of each encoder block (at least three blocks).
        decoder_width: Channels of the fused stride-4 map.
        dropout: Dropout before the classifier.
        use_meta: Concatenate ``meta`` to the pooled feature (then ``meta`` is required).
    """

    default_input_size = 192

    def __init__(
        self,
        num_classes: int = 5,
        in_chans: int = 1,
        widths: tuple[int, ...] = (24, 48, 96, 128, 192),
        decoder_width: int = 64,
        dropout: float = 0.2,
        use_meta: bool = False,
    ) -> None:
        if len(widths) <= _DECODER_FROM:
            raise ValueError(f"compact_seg needs at least {_DECODER_FROM + 1} encoder widths, got {len(widths)}")
        super().__init__(num_classes, in_chans, tuple(widths), pool="max", dropout=dropout, use_meta=use_meta)
        self.taps = [2 * i for i in range(len(widths))]
        self.lateral = nn.ModuleList(
            nn.Conv2d(width, decoder_width, 1, bias=False) for width in widths[_DECODER_FROM:]
        )
        self.fuse = _conv_block(decoder_width, decoder_width)
        self.seg_head = nn.Conv2d(decoder_width, 1, 1)
        pooled = 2 * decoder_width + 1
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(pooled + (self.meta_dim if use_meta else 0), num_classes)
        )

    @property
    def target_layer(self) -> nn.Module:
        return self.fuse

    def forward_features(self, image: torch.Tensor) -> torch.Tensor:
        """Image -> the fused stride-4 map ``[B, decoder_width, H/4, W/4]``."""
        skips: list[torch.Tensor] = []
        x = image
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.taps[_DECODER_FROM:]:
                skips.append(x)
        top = self.lateral[-1](skips[-1])
        for lateral, skip in zip(reversed(self.lateral[:-1]), reversed(skips[:-1])):
            top = lateral(skip) + F.interpolate(top, size=skip.shape[-2:], mode="nearest")
        return self.fuse(top)

    def mask_logits(self, features: torch.Tensor) -> torch.Tensor:
        """Defect logits per position of the stride-4 map, ``[B, 1, H/4, W/4]``."""
        return self.seg_head(features)

    def forward_head(self, features: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        seg = self.mask_logits(features).flatten(2)  # [B, 1, h*w]
        weights = torch.softmax(seg, dim=-1)
        attended = (features.flatten(2) * weights).sum(-1)
        pooled = torch.cat([features.amax(dim=(2, 3)), attended, seg.amax(dim=-1)], dim=1)
        if self.uses_meta:
            pooled = torch.cat([pooled, meta.to(pooled.dtype)], dim=1)
        return self.head(pooled)


@register_model("compact_seg")
def compact_seg(
    num_classes: int = 5,
    in_chans: int = 1,
    widths: tuple[int, ...] = (24, 48, 96, 128, 192),
    decoder_width: int = 64,
    dropout: float = 0.2,
    use_meta: bool = False,
) -> CompactSegClassifier:
    """``compact`` encoder + stride-4 defect-segmentation decoder feeding the classifier (~1.1 M)."""
    return CompactSegClassifier(num_classes, in_chans, tuple(widths), decoder_width, dropout, use_meta)
