"""Shared feature extractors (CT classifiers, GAIN-MTL).

``create_backbone("resnet18", in_chans=1, output_stride=8)`` returns a
:class:`~models.backbones.resnet.ResNetFeatures` whose ``forward`` gives the four stage maps.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.errors import ConfigError
from models.backbones.pretrained import adapt_input_conv, check_weights_file, load_pretrained, read_state_dict
from models.backbones.resnet import BasicBlock, ResNetFeatures, resnet18_features, resnet34_features

_BACKBONES: dict[str, Callable[..., ResNetFeatures]] = {
    "resnet18": resnet18_features,
    "resnet34": resnet34_features,
}


def list_backbones() -> list[str]:
    """Names accepted by :func:`create_backbone`."""
    return sorted(_BACKBONES)


def create_backbone(
    name: str = "resnet18",
    in_chans: int = 1,
    output_stride: int = 32,
    pretrained_path: str | Path | None = None,
    **kwargs,
) -> ResNetFeatures:
    """Build a feature extractor by name, optionally loading local pretrained weights.

    Args:
        name: One of :func:`list_backbones`.
        in_chans: Input channels (1 for CT).
        output_stride: 32, 16 or 8 (the last stages are dilated instead of strided).
        pretrained_path: Optional ``.safetensors`` state dict (torchvision/timm ResNet keys work;
            RGB stems are summed to one channel). ``None`` trains from scratch.
        **kwargs: Passed to :class:`ResNetFeatures` (e.g. ``zero_init_residual``).

    Raises:
        ConfigError: Unknown name or bad option.
        CheckpointError: ``pretrained_path`` is missing or does not fit.
    """
    if name not in _BACKBONES:
        raise ConfigError(f"unknown backbone {name!r}; known backbones: {', '.join(list_backbones())}.")
    if pretrained_path is not None:
        check_weights_file(pretrained_path)
    backbone = _BACKBONES[name](in_chans=in_chans, output_stride=output_stride, **kwargs)
    if pretrained_path is not None:
        load_pretrained(backbone, pretrained_path)
    return backbone


__all__ = [
    "BasicBlock",
    "ResNetFeatures",
    "adapt_input_conv",
    "check_weights_file",
    "create_backbone",
    "list_backbones",
    "load_pretrained",
    "read_state_dict",
    "resnet18_features",
    "resnet34_features",
]
