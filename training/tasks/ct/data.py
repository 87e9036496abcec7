"""CT task data: datasets, transforms and loaders of one split."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Subset

from core.errors import ConfigError, InputError
from training.loop import make_generator
from training.tasks.common import evenly_spaced_indices, task_loader
from training.tasks.ct.config import CLASS_NAMES, CTDataConfig

__all__ = ["build_transform", "data_dirs", "make_dataset", "make_loader"]


def _labels_of(dataset: Dataset) -> np.ndarray:
    """Class index of every sample, read from the manifest rows (no image decoding)."""
    if isinstance(dataset, Subset):
        return _labels_of(dataset.dataset)[np.asarray(dataset.indices, dtype=np.int64)]
    if isinstance(dataset, ConcatDataset):
        return np.concatenate([_labels_of(d) for d in dataset.datasets])
    return np.asarray(dataset.targets, dtype=np.int64)


def _require_all_classes(labels: np.ndarray, split: str, data_dir: Path) -> None:
    missing = [name for i, name in enumerate(CLASS_NAMES) if not (labels == i).any()]
    if missing:
        raise InputError(
            f"the {split} split of {data_dir} has no images of class {', '.join(missing)}; "
            f"every CT class must be present"
        )


def build_transform(cfg: CTDataConfig, train: bool) -> Any:
    """Paired CT transform: optional outline crop, resize (area), then the augmentation policy.

    ``data.augment`` is ``"ct"`` (seed 003 §5: flips, rotation, affine; never colour jitter or
    blur), ``"none"``, or a list of transform entries for :func:`training.transforms.build_transforms`.
    Evaluation never augments, so it matches :class:`inspector.predictors.ct.CTPredictor`.
    """
    import training.ct_augment  # noqa: F401  (registers the scanner and intensity transforms)
    from training.transforms import Compose, build_transforms, default_transforms

    policy = cfg.augment
    window = build_transforms([{"name": "intensity", "mode": cfg.intensity}], "ct")
    if not train or policy in ("ct", "none"):
        base = default_transforms("ct", cfg.input_size, train=train and policy == "ct", crop=cfg.crop)
        return Compose([base, window])
    if isinstance(policy, str):
        raise ConfigError(
            f"config key 'data.augment' must be 'ct', 'none' or a list of transforms, got {policy!r}"
        )
    return Compose(
        [
            default_transforms("ct", cfg.input_size, train=False, crop=cfg.crop),
            build_transforms(policy, "ct"),
            window,
        ]
    )


def data_dirs(data: str | Path | Sequence[str | Path]) -> list[Path]:
    """One or several dataset folders as a list (``--data A --data B`` trains on both)."""
    if isinstance(data, (str, Path)):
        return [Path(data)]
    return [Path(d) for d in data]


def make_dataset(
    data_dir: str | Path | Sequence[str | Path], split: str, cfg: CTDataConfig, train: bool
) -> Dataset:
    """A CT dataset of one split (``"all"`` = every row) with the train or eval transform.

    Args:
        data_dir: A dataset folder, or several (their rows are concatenated in order).
        split: Split name, or ``"all"``.
        cfg: Data settings.
        train: Training transform (augmentation) or evaluation transform.

    Raises:
        InputError: A missing/broken manifest or an empty split.
    """
    from training.datasets import CTDataset

    transform = build_transform(cfg, train)
    parts = [CTDataset(d, split=None if split == "all" else split, transform=transform) for d in data_dirs(data_dir)]
    dataset: Dataset = parts[0] if len(parts) == 1 else ConcatDataset(parts)
    if len(dataset) == 0:
        raise InputError(f"the {split} split of {data_dir} has no CT images")
    if cfg.limit and len(dataset) > cfg.limit:
        dataset = Subset(dataset, evenly_spaced_indices(len(dataset), cfg.limit).tolist())
    return dataset


def make_loader(dataset: Dataset, cfg: CTDataConfig, seed: int, train: bool) -> DataLoader:
    """A DataLoader; the training one samples class-balanced when ``data.sampler: weighted``."""
    sampler = None
    if train and cfg.sampler == "weighted":
        from training.samplers import make_weighted_sampler

        sampler = make_weighted_sampler(
            _labels_of(dataset), power=cfg.sampler_power, generator=make_generator(seed)
        )
    return task_loader(dataset, cfg.batch_size, seed, train, sampler, cfg.num_workers)
