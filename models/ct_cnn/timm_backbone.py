"""``timm:<name>``: any timm model (convnext_tiny, efficientnet_b0, ...) as a CT classifier.

The model is built by timm with ``in_chans`` (1 for CT: timm builds a 1-channel stem) and
``num_classes``. It starts from scratch unless ``pretrained_path`` names a local weights file,
which timm loads through ``pretrained_cfg_overlay=dict(file=...)`` (adapting an RGB stem to one
channel and dropping a classifier of another size). Nothing is downloaded.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from core.errors import ConfigError
from models.backbones.pretrained import check_weights_file
from models.ct_cnn.base import CTClassifier
from models.ct_cnn.registry import register_model

log = logging.getLogger(__name__)


class TimmClassifier(CTClassifier):
    """Wrap ``timm.create_model(variant)``; ``meta`` is accepted and ignored.

    ``target_layer`` is an identity "tap" on the output of timm's ``forward_features`` (the last
    feature map before pooling), so Grad-CAM works the same for every timm CNN. For transformer
    models that map is a token sequence and needs a reshape transform.

    Args:
        variant: A timm model name (``timm.list_models()``).
        num_classes: Number of logits.
        in_chans: Image channels.
        dropout: timm ``drop_rate`` before the classifier.
        pretrained_path: Optional local ``.safetensors`` weights for that timm model.
        **timm_kwargs: Further ``timm.create_model`` options (e.g. ``drop_path_rate``).
    """

    def __init__(
        self,
        variant: str,
        num_classes: int = 5,
        in_chans: int = 1,
        dropout: float = 0.0,
        pretrained_path: str | Path | None = None,
        **timm_kwargs,
    ) -> None:
        import timm  # heavy import, only when a timm model is requested

        super().__init__(num_classes, in_chans)
        if not variant or not timm.is_model(variant):
            close = timm.list_models(f"*{variant}*")[:8] if variant else []
            hint = f" (similar: {', '.join(close)})" if close else ""
            raise ConfigError(f"unknown timm model {variant!r}{hint}; see timm.list_models().")
        options = dict(num_classes=num_classes, in_chans=in_chans, drop_rate=dropout, **timm_kwargs)
        if pretrained_path is not None:
            path = check_weights_file(pretrained_path)
            options.update(pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
            log.info("loading %s weights from %s", variant, path)
        try:
            self.model = timm.create_model(variant, **options)
        except TypeError as exc:
            raise ConfigError(f"timm model {variant!r} rejected an option: {exc}.") from exc
        self.variant = variant
        self.num_features = self.model.num_features
        self.feature_tap = nn.Identity()

    @property
    def target_layer(self) -> nn.Module:
        """Identity tap on the output of ``forward_features``."""
        return self.feature_tap

    def forward_features(self, image: torch.Tensor) -> torch.Tensor:
        return self.feature_tap(self.model.forward_features(image))

    def forward_head(self, features: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.forward_head(features)


@register_model("timm")
def timm_model(
    variant: str = "",
    num_classes: int = 5,
    in_chans: int = 1,
    dropout: float = 0.0,
    pretrained_path: str | Path | None = None,
    **timm_kwargs,
) -> TimmClassifier:
    """Any timm model by name: ``create_model("timm:convnext_tiny")``."""
    return TimmClassifier(variant, num_classes, in_chans, dropout, pretrained_path, **timm_kwargs)
