"""CT task configuration: the ``training/configs/ct_*.yaml`` schema and its loader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.manifest import CT_LABELS
from training.config import DataConfig, LossConfig, ModelConfig, TrainConfig, load_config, param

__all__ = ["CLASS_NAMES", "CTConfig", "CTDataConfig", "CTLossConfig", "ReviewConfig", "load_ct_config"]

CLASS_NAMES: tuple[str, ...] = tuple(CT_LABELS)


@dataclass
class CTDataConfig(DataConfig):
    """CT data settings: the shared ones plus the intensity normalisation stored in the card."""

    mean: float = 0.5
    std: float = param(0.25, gt=0)
    intensity: Literal["none", "percentile"] = "none"  # per-slice window, core.preprocessing.intensity


@dataclass
class CTLossConfig(LossConfig):
    """The shared loss settings plus the auxiliary coarse (normal/defect) loss of ``hierarchical``."""

    coarse_weight: float = param(0.0, ge=0, help="weight of the coarse-head loss (hierarchical models)")
    mask_weight: float = param(0.0, ge=0, help="weight of the auxiliary defect-mask loss (training only)")
    mask_pos_weight: float = param(5.0, gt=0, help="BCE weight of defect cells in the mask loss")

    def __post_init__(self) -> None:
        if self.coarse_weight > 0 and self.mask_weight > 0:
            raise ValueError("loss.coarse_weight and loss.mask_weight cannot be combined")


@dataclass
class ReviewConfig:
    """How the "needs review" density is fitted after training (inspector.review).

    The OOD threshold is ``margin`` times the ``quantile`` of the validation scores, so about
    ``1 - quantile`` of in-distribution slices would be flagged at ``margin = 1``.
    """

    fit: bool = True
    quantile: float = param(0.99, gt=0, lt=1)
    margin: float = param(1.5, ge=1)
    max_fit_images: int = param(4000, gt=0, help="training slices used to fit the class Gaussians")
    low_margin: float = param(0.3, ge=0, lt=0.5, help="flag defect probabilities this close to the threshold")


@dataclass
class CTConfig:
    """Top-level schema of ``training/configs/ct_*.yaml``."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: CTDataConfig = field(default_factory=CTDataConfig)
    loss: CTLossConfig = field(default_factory=CTLossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    calibrate: bool = True  # fit the softmax calibration on val after training
    # temperature: one divisor; temperature_bias: plus a per-class offset (undoes the uniform
    # prior a class-balanced sampler teaches; training.metrics.calibration.CALIBRATION_METHODS)
    calibration: Literal["temperature", "temperature_bias"] = "temperature"
    review: ReviewConfig = field(default_factory=ReviewConfig)


def load_ct_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> CTConfig:
    """Load and validate a CT config file (``overrides`` use dotted keys)."""
    return load_config(path, CTConfig, overrides)
