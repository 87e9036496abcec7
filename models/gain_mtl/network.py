"""GAIN-MTL: an encoder, a multi-scale decoder, a CAM classifier and a localisation head.

``model(image) -> {"logits", "cam", "loc"}``:

* ``logits [B, C]``: the pooled evidence map (a single defect logit by default);
* ``cam [B, C, h, w]``: the raw evidence map, the differentiable CAM (see :mod:`.cam`);
* ``loc [B, 1, h, w]``: logits of the defect mask from the localisation head.

``h, w`` are the input size divided by ``decoder_stride``. The attention map shown to users is
:meth:`GainMTL.attention`; the defect mask is :meth:`GainMTL.localisation`. The model is a plain
``nn.Module``: the losses and the training schedule live in :mod:`training`.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from models.gain_mtl.cam import CAMClassifier, defect_evidence, normalise_attention
from models.gain_mtl.decoder import DEFAULT_DECODER_STRIDE, MultiScaleDecoder, conv_bn_relu
from models.gain_mtl.encoder import create_encoder
from models.gain_mtl.mining import AttentionMining


class GainMTL(nn.Module):
    """The GAIN-MTL network.

    Args:
        encoder: ``resnet18``, ``resnet34`` or a timm model name (e.g. ``tf_efficientnetv2_b0``).
        encoder_width: First-stage width of a ResNet encoder (64 = standard; 32 = ~1/4 compute).
        in_chans: Input channels (1 for CT).
        num_classes: Output logits; 1 = a single defect logit (normal/defect).
        output_stride: Stride of the deepest encoder map (32, 16 or 8 via dilation).
        decoder_channels: Width of the fused map.
        decoder_stride: Stride of the fused map, hence of the CAM and the localisation map
            (default :data:`~models.gain_mtl.decoder.DEFAULT_DECODER_STRIDE`, 1: input resolution).
        detail_channels: Width of the fine detail branch and of the output map when
            ``decoder_stride`` is finer than the encoder's first stage.
        pool: CAM pooling, ``"lse"`` or ``"avg"``.
        lse_r: Sharpness of log-sum-exp pooling.
        mining_omega: Steepness of the attention-mining soft mask.
        mining_sigma: Threshold of the attention-mining soft mask.
        fill_kernel: Window of the inpainting fill used when erasing.
        pretrained_path: Optional local encoder weights; nothing is downloaded.
    """

    def __init__(
        self,
        encoder: str = "resnet18",
        encoder_width: int = 64,
        in_chans: int = 1,
        num_classes: int = 1,
        output_stride: int = 32,
        decoder_channels: int = 64,
        decoder_stride: int = DEFAULT_DECODER_STRIDE,
        detail_channels: int = 16,
        pool: str = "lse",
        lse_r: float = 10.0,
        mining_omega: float = 10.0,
        mining_sigma: float = 0.5,
        fill_kernel: int = 11,
        pretrained_path: str | Path | None = None,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.encoder = create_encoder(encoder, in_chans, output_stride, pretrained_path, encoder_width)
        self.decoder = MultiScaleDecoder(
            self.encoder.channels,
            self.encoder.reductions,
            channels=decoder_channels,
            out_stride=decoder_stride,
            in_chans=in_chans,
            detail_channels=detail_channels,
        )
        width = self.decoder.out_channels
        self.classifier = CAMClassifier(width, num_classes, pool=pool, lse_r=lse_r)
        self.loc_head = nn.Sequential(conv_bn_relu(width, width), nn.Conv2d(width, 1, 1))
        self.mining = AttentionMining(mining_omega, mining_sigma, fill_kernel)

    @property
    def target_layer(self) -> nn.Module:
        """The fused feature map (hooked by Grad-CAM style explainers)."""
        return self.decoder

    def forward(self, image: torch.Tensor, meta: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Run the network; ``meta`` is accepted for interface compatibility and ignored."""
        features = self.decoder(image, self.encoder(image))
        logits, cam = self.classifier(features)
        return {"logits": logits, "cam": cam, "loc": self.loc_head(features)}

    def defect_logit(self, output: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logit of "defective" ``[B]``: the logit itself, or ``logsumexp(defect) - normal``."""
        logits = output["logits"]
        if self.num_classes == 1:
            return logits[:, 0]
        return torch.logsumexp(logits[:, 1:], dim=1) - logits[:, 0]

    def attention(
        self, output: dict[str, torch.Tensor], size: tuple[int, int], target: int | None = None
    ) -> torch.Tensor:
        """Normalised attention ``[B, 1, H, W]`` in ``[0, 1]`` (positive defect evidence, min-max)."""
        return normalise_attention(defect_evidence(output["cam"], target), size)

    @staticmethod
    def localisation(output: dict[str, torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        """Defect-mask probabilities ``[B, 1, H, W]`` from the localisation head."""
        return torch.sigmoid(F.interpolate(output["loc"], size=size, mode="bilinear", align_corners=False))
