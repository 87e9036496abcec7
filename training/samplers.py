"""Class balancing: inverse-frequency class weights and a ``WeightedRandomSampler`` helper."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import WeightedRandomSampler


def class_weights(targets: Sequence[int], num_classes: int, power: float = 1.0) -> torch.Tensor:
    """Inverse-frequency weights per class, normalised to mean 1 over present classes.

    Args:
        targets: Label index of every sample.
        num_classes: Number of classes.
        power: ``1`` for full inverse frequency, ``0.5`` for its square root, ``0`` for none.

    Returns:
        FloatTensor ``[num_classes]``; classes without samples get weight 0.
    """
    counts = np.bincount(np.asarray(targets, dtype=np.int64), minlength=num_classes).astype(np.float64)
    weights = np.zeros(num_classes)
    present = counts > 0
    weights[present] = counts[present] ** -power
    weights[present] /= weights[present].mean()
    return torch.tensor(weights, dtype=torch.float32)


def make_weighted_sampler(
    targets: Sequence[int],
    num_samples: int | None = None,
    power: float = 1.0,
    generator: torch.Generator | None = None,
) -> WeightedRandomSampler:
    """A sampler that draws classes (about) equally often, with replacement.

    Args:
        targets: Label index of every sample (e.g. ``dataset.targets``).
        num_samples: Draws per epoch (default: ``len(targets)``).
        power: Strength of the re-balancing (``1`` = uniform over classes).
        generator: Optional torch generator for reproducible draws.

    Returns:
        A :class:`torch.utils.data.WeightedRandomSampler`.
    """
    targets = np.asarray(targets, dtype=np.int64)
    per_class = class_weights(targets, int(targets.max()) + 1, power).numpy()
    weights = torch.as_tensor(per_class[targets], dtype=torch.double)
    return WeightedRandomSampler(weights, num_samples or len(targets), replacement=True, generator=generator)
