"""GAIN task configuration: the ``training/configs/gain/*.yaml`` schema, ``base:`` inheritance, loader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.errors import CheckpointError, ConfigError
from models.gain_mtl.decoder import DEFAULT_DECODER_STRIDE
from training.config import TrainConfig, from_dict, param, to_dict
from training.losses import list_losses

CLASS_NAMES: tuple[str, ...] = ("normal", "defect")
CLASSIFICATION_TERM = "cls"


@dataclass
class GainModelConfig:
    """Keyword arguments of :class:`models.gain_mtl.GainMTL` (see its docstring)."""

    encoder: str = "resnet18"
    encoder_width: int = param(64, gt=0)
    output_stride: int = 32
    decoder_channels: int = param(64, gt=0)
    decoder_stride: int = param(DEFAULT_DECODER_STRIDE, ge=1)
    detail_channels: int = param(16, gt=0)
    pool: Literal["lse", "avg"] = "lse"
    lse_r: float = param(10.0, gt=0)
    mining_omega: float = param(10.0, gt=0)
    mining_sigma: float = param(0.5, gt=0, lt=1)
    fill_kernel: int = param(11, gt=0)
    pretrained: str | None = None


@dataclass
class GainDataConfig:
    """Data settings. Images are resized (area) to ``input_size`` and cached in memory."""

    input_size: int = param(128, ge=32, le=1024)
    batch_size: int = param(32, gt=1)
    mean: float = 0.5
    std: float = param(0.25, gt=0)
    augment: Literal["flip", "flip_scanner", "none"] = "flip"  # flip_scanner: + training.ct_augment.ScannerAugment
    intensity: Literal["none", "percentile"] = "none"  # per-slice window, core.preprocessing.intensity
    balance: bool = True  # sample normal and defect images equally often
    train_split: str = "train"
    val_split: str = "val"
    limit: int | None = param(None, gt=0, help="use at most N training images")
    val_limit: int | None = param(None, gt=0, help="use at most N validation images")


@dataclass
class LossTerm:
    """One weighted loss term: ``weight * warmup(progress) * loss``.

    ``name`` is the loss registry name (default: the key of the term); ``warmup`` is the
    fraction of training over which the weight ramps linearly from 0.
    """

    weight: float = param(0.0, ge=0)
    warmup: float = param(0.0, ge=0, le=1)
    name: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class CurriculumConfig:
    """GT-mask curriculum (see :mod:`training.curriculum`); ``alpha_start: 0`` disables it."""

    alpha_start: float = param(0.0, ge=0, le=1)
    end_ratio: float = param(0.7, gt=0, le=1)


@dataclass
class GainEvalConfig:
    """Decision and map thresholds used for validation metrics and stored in the card.

    After training, the decision threshold is tuned on the validation split when
    ``min_recall`` is set: the highest threshold whose validation recall is at least
    ``min_recall`` (missing a defect costs more than a false alarm, seed 000 goal 4).
    """

    threshold: float = param(0.5, gt=0, lt=1)
    min_recall: float | None = param(None, gt=0, le=1, help="tune the threshold on val; null keeps it")
    map_threshold: float = param(0.5, gt=0, lt=1)
    tolerance: int = param(3, ge=0, help="PointGame tolerance in pixels")


@dataclass
class GainConfig:
    """Top-level schema of ``training/configs/gain/*.yaml``."""

    strategy: str = "custom"
    description: str = ""
    model: GainModelConfig = field(default_factory=GainModelConfig)
    data: GainDataConfig = field(default_factory=GainDataConfig)
    losses: dict[str, Any] = field(default_factory=lambda: {CLASSIFICATION_TERM: {"weight": 1.0}})
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    eval: GainEvalConfig = field(default_factory=GainEvalConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def loss_terms(self) -> dict[str, LossTerm]:
        """The validated loss terms, keyed by term name.

        Raises:
            ConfigError: A term that is not a registered loss, or a missing ``cls`` term.
        """
        terms = {k: from_dict(LossTerm, v, prefix=f"losses.{k}") for k, v in self.losses.items()}
        if CLASSIFICATION_TERM not in terms:
            raise ConfigError("config section 'losses' needs a 'cls' term (the classification loss)")
        known = set(list_losses())
        for key, term in terms.items():
            name = term.name or (
                "cross_entropy" if key == CLASSIFICATION_TERM else key
            )  # cls defaults to cross-entropy
            if name not in known:
                raise ConfigError(f"config key 'losses.{key}' names unknown loss {name!r}")
            term.name = name
        return terms


def _deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _read_yaml_with_base(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    if path.resolve() in seen:
        raise ConfigError(f"config file {path} inherits from itself")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping")
    base = data.pop("base", None)
    if base is None:
        return data
    parent = _read_yaml_with_base(path.parent / str(base), (*seen, path.resolve()))
    return _deep_merge(parent, data)


def load_gain_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> GainConfig:
    """Load a GAIN config; a ``base: other.yaml`` key (relative path) is merged underneath.

    Args:
        path: YAML file.
        overrides: Dotted keys, e.g. ``{"train.epochs": 2, "data.limit": 64}``.

    Raises:
        ConfigError: Missing file, bad YAML, unknown key or value, unknown loss.
    """
    from training.config import apply_overrides

    data = _read_yaml_with_base(Path(path))
    config = apply_overrides(from_dict(GainConfig, data), overrides or {})
    config.loss_terms()  # validate early
    return config


def model_kwargs(cfg: GainModelConfig) -> dict[str, Any]:
    """The :class:`~models.gain_mtl.GainMTL` kwargs of a model config (weights stay out)."""
    kwargs = to_dict(cfg)
    kwargs.pop("pretrained")
    return kwargs


def _config_from_card(card: Mapping[str, Any]) -> GainConfig:
    try:
        return from_dict(GainConfig, card.get("config") or {})
    except ConfigError as exc:
        raise CheckpointError(f"checkpoint card holds an invalid config: {exc}") from exc
