"""Helpers shared by the CT, RGB and GAIN task packages (one place for logic they all repeat)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from core.checkpoint import load_checkpoint, load_state_dict_strict
from core.errors import CheckpointError, ConfigError
from training.config import to_dict
from training.loop import make_generator, seed_worker

__all__ = ["evenly_spaced_indices", "load_task_model", "normalise", "provenance", "task_loader"]


def normalise(image: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """``(image - mean) / std``: the single-channel intensity normalisation stored in the card."""
    return (image - mean) / std


def evenly_spaced_indices(n: int, limit: int | None) -> np.ndarray:
    """Indices ``0 .. n-1``, or at most ``limit`` of them evenly spaced (first and last kept).

    Keeping evenly spaced rows of the manifest order keeps every class in play in smoke runs.
    """
    if limit and n > limit:
        return np.unique(np.linspace(0, n - 1, limit).round().astype(int))
    return np.arange(n)


def task_loader(
    dataset: Dataset,
    batch_size: int,
    seed: int,
    train: bool,
    sampler: Sampler | None = None,
    num_workers: int = 0,
) -> DataLoader:
    """A seeded DataLoader: training shuffles (unless ``sampler``) and drops a last short batch.

    The shuffle generator is seeded with ``seed + 1`` (``seed`` itself is the sampler's).
    """
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=train and sampler is None,
        sampler=sampler,
        drop_last=train and len(dataset) > batch_size,  # BatchNorm1d heads need >= 2 per batch
        num_workers=num_workers,
        worker_init_fn=seed_worker if num_workers else None,
        generator=make_generator(seed + 1),
        persistent_workers=num_workers > 0,
    )


def load_task_model(
    path: str | Path,
    task: str,
    build: Callable[[dict[str, Any]], nn.Module],
    device: str | torch.device = "cpu",
    build_errors: tuple[type[Exception], ...] = (ConfigError,),
) -> tuple[nn.Module, dict[str, Any]]:
    """Load a checkpoint of ``task``, build its model with ``build(card)`` and load the weights.

    Returns:
        ``(model in float32 and eval mode on device, card)``.

    Raises:
        CheckpointError: Missing files, a checkpoint of another task, a card ``build`` cannot
            build (any of ``build_errors``), or weights that do not match.
    """
    from inspector.review import split_review_state

    state_dict, card = load_checkpoint(path, task=task)
    state_dict, _ = split_review_state(state_dict)  # review statistics are not model weights
    try:
        model = build(card)
    except build_errors as exc:
        raise CheckpointError(f"checkpoint {Path(path).name} cannot be built: {exc}") from exc
    load_state_dict_strict(model, state_dict, card)
    return model.float().to(device).eval(), card


def provenance(config: Any, data_fingerprint: Any) -> dict[str, Any]:
    """The card fields every task records about its run: ``config``, ``seed``, ``data_fingerprint``."""
    return {"config": to_dict(config), "seed": config.train.seed, "data_fingerprint": data_fingerprint}
