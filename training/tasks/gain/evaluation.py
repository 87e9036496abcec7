"""GAIN task inference and evaluation: load a checkpoint, predict maps, score a split."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from core.errors import ConfigError
from training.metrics.localisation import GainMetrics
from training.tasks.common import load_task_model
from training.tasks.gain.config import _config_from_card
from training.tasks.gain.data import GainSplit
from training.tasks.gain.task import GainTask

__all__ = ["evaluate", "load_gain_model", "predict_maps"]


def load_gain_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Build the GAIN-MTL model of a checkpoint and load its weights (float32, eval mode).

    Raises:
        CheckpointError: Missing files, a non-GAIN checkpoint, or mismatching weights.
    """
    from models.gain_mtl import create_gain_model

    return load_task_model(
        path,
        "gain",
        lambda card: create_gain_model(**dict(card.get("model_kwargs") or {})),
        device,
        build_errors=(ConfigError, TypeError),
    )


@torch.no_grad()
def predict_maps(model: nn.Module, card: Mapping[str, Any], images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Defect probabilities and maps of raw ``[B, 1, H, W]`` images in ``[0, 1]`` (already resized)."""
    task = GainTask(model, _config_from_card(card))
    model.eval()
    return task.predict(images.to(next(model.parameters()).device))


def evaluate(
    model: nn.Module,
    card: Mapping[str, Any],
    data: str | Path | GainSplit,
    split: str = "test",
    limit: int | None = None,
    batch_size: int = 64,
) -> dict[str, Any]:
    """The contract metrics of one split: accuracy, recall, f1, cam_iou, point_game,
    energy_inside, loc_iou, n_images, n_defect_images.

    Args:
        model: A loaded GAIN-MTL model.
        card: Its checkpoint card (input size, normalisation, thresholds).
        data: Dataset folder (or several), or an already cached :class:`GainSplit`.
        split: Manifest split when ``data`` is a folder.
        limit: Evaluate at most this many images.
        batch_size: Inference batch size.
    """
    config = _config_from_card(card)
    dataset = (
        data
        if isinstance(data, GainSplit)
        else GainSplit(
            data,
            split,
            config.data.input_size,
            "none",
            limit,
            intensity=(card.get("preprocessing") or {}).get("intensity") or "none",
        )
    )
    meter = GainMetrics(float(card.get("threshold") or 0.5), config.eval.map_threshold, config.eval.tolerance)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    for batch in loader:
        maps = predict_maps(model, card, batch["image"])
        meter.update(maps["prob"], batch["is_defect"], maps["attention"], batch["mask"], maps["loc"])
    return meter.compute()
