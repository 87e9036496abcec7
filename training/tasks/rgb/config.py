"""RGB task configuration: the ``training/configs/rgb_*.yaml`` schema and the crop it asks for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.preprocessing import RGBCrop
from inspector.anomaly import ScoreConfig
from training.anomaly import CorruptionConfig
from training.config import TrainConfig, load_config, param

__all__ = ["CLASS_NAMES", "AEModelConfig", "RGBConfig", "RGBDataConfig", "data_crop", "load_rgb_config"]


CLASS_NAMES = ["normal", "defect"]


@dataclass
class AEModelConfig:
    """Which autoencoder to build (:func:`models.rgb_ae.create_model`)."""

    architecture: str = "conv_ae_compact"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class RGBDataConfig:
    """Data loading for the autoencoder."""

    input_size: int = param(128, ge=16, le=1024, help="square model input side")
    batch_size: int = param(16, gt=0)
    num_workers: int = param(0, ge=0)
    hflip: bool = False  # random horizontal flips of the training normals
    rot90: bool = False  # random quarter turns and vertical flips too (batteries lie any way round)
    crop: bool = False  # cut the battery out of the photo first (core.preprocessing.rgb_crop)
    crop_margin: float = param(0.08, ge=0.0, le=1.0, help="battery crop margin (share of its long side)")
    train_split: str = "train"
    val_split: str = "val"
    test_split: str = "test"
    limit: int | None = param(None, gt=0, help="use at most N images per split (smoke tests)")


@dataclass
class RGBConfig:
    """Top-level ``rgb_*.yaml`` schema."""

    model: AEModelConfig = field(default_factory=AEModelConfig)
    data: RGBDataConfig = field(default_factory=RGBDataConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    corrupt: CorruptionConfig = field(default_factory=CorruptionConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def load_rgb_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> RGBConfig:
    """Load and validate an RGB config file (``overrides`` use dotted keys)."""
    return load_config(path, RGBConfig, overrides)


def data_crop(data: RGBDataConfig) -> RGBCrop:
    """The photo-to-input crop a data config asks for."""
    return RGBCrop(data.input_size, data.crop_margin, enabled=data.crop)
