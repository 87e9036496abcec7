"""YAML configs as validated dataclasses.

A config file is a YAML mapping whose sections map onto dataclasses. Every task declares its
own top-level dataclass made of the shared sections defined here (:class:`TrainConfig`,
:class:`ModelConfig`, :class:`DataConfig`, :class:`LossConfig`) plus any sections of its own,
and loads it with :func:`load_config`. Parsing is driven by the type hints and the field
constraints, so a new section is just a new dataclass::

    from dataclasses import dataclass, field
    from training.config import TrainConfig, load_config, param

    @dataclass
    class AEConfig:
        latent_channels: int = param(512, gt=0)

    @dataclass
    class RGBConfig:
        model: AEConfig = field(default_factory=AEConfig)
        train: TrainConfig = field(default_factory=TrainConfig)

    config = load_config("training/configs/rgb_default.yaml", RGBConfig)

Unknown keys, wrong types and out-of-range values raise :class:`~core.errors.ConfigError`
naming the offending key (``train.lr``), so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import yaml

from core.errors import ConfigError

T = TypeVar("T")

__all__ = [
    "DataConfig",
    "EarlyStoppingConfig",
    "LossConfig",
    "ModelConfig",
    "SchedulerConfig",
    "TrainConfig",
    "apply_overrides",
    "from_dict",
    "load_config",
    "param",
    "save_config",
    "to_dict",
]


def param(
    default: Any = dataclasses.MISSING,
    *,
    default_factory: Any = dataclasses.MISSING,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    help: str = "",  # noqa: A002 - mirrors argparse
) -> Any:
    """A dataclass field with numeric bounds checked by :func:`from_dict`.

    Args:
        default: Default value.
        default_factory: Factory for mutable defaults (lists, dicts).
        gt: Value must be strictly greater than this.
        ge: Value must be greater than or equal to this.
        lt: Value must be strictly less than this.
        le: Value must be less than or equal to this.
        help: One-line description, shown in error messages.

    Returns:
        A ``dataclasses.field`` carrying the bounds in its metadata.
    """
    metadata = {"gt": gt, "ge": ge, "lt": lt, "le": le, "help": help}
    return field(default=default, default_factory=default_factory, metadata=metadata)


# --------------------------------------------------------------------------- shared sections


@dataclass
class SchedulerConfig:
    """Learning-rate schedule: linear warm-up, then the named schedule.

    ``cosine_restarts`` is ``CosineAnnealingWarmRestarts`` with ``t_0`` in epochs;
    ``cosine`` anneals once over the remaining epochs; ``constant`` keeps the base rate.
    """

    name: Literal["cosine_restarts", "cosine", "constant"] = "cosine_restarts"
    warmup_epochs: float = param(1.0, ge=0)
    t_0: int = param(10, gt=0, help="epochs of the first cosine cycle")
    t_mult: int = param(2, ge=1)
    eta_min: float = param(1e-6, ge=0)


@dataclass
class EarlyStoppingConfig:
    """Stop when the monitored validation metric has not improved for ``patience`` epochs."""

    enabled: bool = True
    patience: int = param(7, ge=1)
    min_delta: float = param(0.001, ge=0)
    monitor: str | None = None  # default: the task's own monitor (val macro-F1 for CT)
    mode: Literal["max", "min"] | None = None


@dataclass
class TrainConfig:
    """Everything the shared :class:`training.loop.Trainer` needs, independent of the task."""

    epochs: int = param(30, gt=0)
    lr: float = param(1e-4, gt=0)
    weight_decay: float = param(0.03, ge=0)
    betas: tuple[float, float] = (0.9, 0.999)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    grad_clip: float = param(1.0, ge=0, help="max gradient norm; 0 disables clipping")
    amp: bool = True  # float16 autocast + GradScaler; only takes effect on CUDA
    cpu_bf16: bool = False  # bfloat16 autocast on CPU (about 2x faster where AVX512-BF16/AMX exist)
    channels_last: bool = False  # NHWC memory format for the model and 4-D batch tensors
    seed: int = 0
    deterministic: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_steps_per_epoch: int | None = param(None, gt=0, help="cap batches per epoch (budgeted runs)")
    max_val_batches: int | None = param(None, gt=0)
    progress_bar: bool = True  # also disabled automatically when stderr is not a terminal
    log_every: int = param(20, gt=0, help="TensorBoard scalar interval in steps")
    tensorboard: bool = True
    tensorboard_images: int = param(4, ge=0, help="sample attention maps logged per epoch")
    checkpoint_dtype: Literal["float32", "float16"] = "float32"
    num_threads: int | None = param(None, gt=0, help="torch CPU threads; default: torch's choice")


@dataclass
class ModelConfig:
    """Which architecture to build, by registry name, with its keyword arguments."""

    architecture: str = "resnet18"
    kwargs: dict[str, Any] = field(default_factory=dict)
    pretrained: str | None = None  # local backbone weights file; never downloaded
    init_from: str | None = None  # warm start: a checkpoint of the same task and architecture
    # Warm start from another architecture of the same task: copy every tensor whose name and
    # shape match (e.g. the ``compact`` encoder into ``compact_seg``), start the rest fresh.
    init_partial: bool = False


@dataclass
class DataConfig:
    """Data loading shared by the image tasks."""

    input_size: int = param(160, ge=16, le=2048)
    batch_size: int = param(32, gt=0)
    num_workers: int = param(0, ge=0)
    augment: str | list[dict[str, Any]] = "ct"  # policy name or transform entries (training.transforms)
    crop: bool = True  # battery-outline crop (seed 003 first preprocessing)
    sampler: Literal["weighted", "none"] = "weighted"
    sampler_power: float = param(1.0, ge=0, le=1, help="1 = inverse class frequency, 0 = uniform")
    train_split: str = "train"
    val_split: str = "val"
    limit: int | None = param(None, gt=0, help="use at most N images per split (smoke tests)")


@dataclass
class LossConfig:
    """Classification loss; the four class-imbalance remedies of seed 002 meet here and in
    :class:`DataConfig` (``sampler: weighted``).
    """

    name: str = "focal"
    gamma: float | None = param(None, ge=0, help="focal focusing parameter; null = the loss default")
    label_smoothing: float = param(0.1, ge=0, lt=1)
    class_weights: list[float] | Literal["auto"] | None = None


# --------------------------------------------------------------------------- parsing


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " or ".join(repr(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if origin is not None:
        return getattr(origin, "__name__", str(tp))
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check ``value`` against the type hint ``tp``; return it converted (int -> float, list -> tuple)."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        if value is None:
            return tp()
        return from_dict(tp, value, prefix=key)
    if origin in (Union, types.UnionType):
        errors = []
        for option in typing.get_args(tp):
            try:
                return _coerce(value, option, key)
            except ConfigError as exc:
                errors.append(exc)
        raise ConfigError(f"config key '{key}' must be {_type_name(tp)}, got {value!r}")
    if origin is Literal:
        if value in typing.get_args(tp):
            return value
        raise ConfigError(f"config key '{key}' must be {_type_name(tp)}, got {value!r}")
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"config key '{key}' must be null, got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML reads "1e-4" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif tp is str:
        if isinstance(value, str):
            return value
    elif origin in (list, tuple):
        if isinstance(value, (list, tuple)):
            args = typing.get_args(tp)
            if origin is tuple and args and args[-1] is not Ellipsis:
                if len(value) != len(args):
                    raise ConfigError(f"config key '{key}' must have {len(args)} items, got {len(value)}")
                return tuple(_coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
            item = args[0] if args else Any
            items = [_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
            return tuple(items) if origin is tuple else items
    elif origin is dict:
        if isinstance(value, Mapping):
            return {str(k): v for k, v in value.items()}
    else:  # pragma: no cover - a schema bug, not a user error
        raise TypeError(f"unsupported config type {tp!r} for {key}")
    raise ConfigError(f"config key '{key}' must be {_type_name(tp)}, got {value!r}")


def _check_bounds(value: Any, f: dataclasses.Field, key: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    meta = f.metadata
    checks = (
        ("gt", "greater than", lambda b: value > b),
        ("ge", "at least", lambda b: value >= b),
        ("lt", "less than", lambda b: value < b),
        ("le", "at most", lambda b: value <= b),
    )
    for name, words, ok in checks:
        bound = meta.get(name)
        if bound is not None and not ok(bound):
            raise ConfigError(f"config key '{key}' must be {words} {bound}, got {value!r}")


def from_dict(cls: type[T], data: Mapping[str, Any] | None, prefix: str = "") -> T:
    """Build the dataclass ``cls`` from a mapping, validating keys, types and bounds.

    Args:
        cls: A dataclass type (may nest other dataclasses).
        data: The mapping read from YAML; ``None`` means all defaults.
        prefix: Dotted path of this section, used in error messages.

    Returns:
        An instance of ``cls``.

    Raises:
        ConfigError: On an unknown key, a value of the wrong type or out of range.
    """
    where = prefix or "top level"
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"config section '{where}' must be a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(map(str, data)) - set(fields))
    if unknown:
        key = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ConfigError(f"unknown config key '{key}' (allowed in {where}: {', '.join(sorted(fields))})")
    kwargs = {}
    for name, value in data.items():
        key = f"{prefix}.{name}" if prefix else name
        kwargs[name] = _coerce(value, hints[name], key)
        _check_bounds(kwargs[name], fields[name], key)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config section '{where}' is invalid: {exc}") from exc


def load_config(path: str | Path, schema: type[T], overrides: Mapping[str, Any] | None = None) -> T:
    """Read a YAML file into the dataclass ``schema``.

    Args:
        path: YAML file.
        schema: Top-level dataclass of the task (e.g. ``CTConfig``).
        overrides: Dotted keys to set after loading, e.g. ``{"train.epochs": 3}``.

    Returns:
        The validated config.

    Raises:
        ConfigError: If the file is missing, is not YAML, or does not validate.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}") from exc
    config = from_dict(schema, data)
    return apply_overrides(config, overrides or {})


def apply_overrides(config: T, overrides: Mapping[str, Any]) -> T:
    """Return a copy of ``config`` with dotted keys replaced, validated like the file.

    Args:
        config: A config dataclass instance.
        overrides: ``{"train.epochs": 3, "data.batch_size": 8}``.

    Returns:
        A new, validated config instance.
    """
    if not overrides:
        return config
    data = to_dict(config)
    for dotted, value in overrides.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise ConfigError(f"unknown config key '{dotted}'")
            node = node[part]
        if leaf not in node:
            raise ConfigError(f"unknown config key '{dotted}'")
        node[leaf] = value
    return from_dict(type(config), data)


def to_dict(config: Any) -> dict[str, Any]:
    """The config as plain YAML/JSON-friendly data (tuples become lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return plain(dataclasses.asdict(config))


def save_config(config: Any, path: str | Path) -> None:
    """Write the resolved config as YAML (loadable again with :func:`load_config`)."""
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False), encoding="utf-8")
