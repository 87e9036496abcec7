"""RGB task scoring: anomaly scores, peak errors and MSE of a batch or a whole split."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from inspector.anomaly import ScoreConfig, anomaly_scores, error_map, gaussian_blur
from training.tasks.rgb.data import RGBImages

__all__ = ["per_type_recall", "score_batch", "score_dataset"]


def score_batch(model: nn.Module, batch: Mapping[str, Any], score: ScoreConfig) -> dict[str, torch.Tensor]:
    """Score one batch: ``score`` (the anomaly score), ``peak`` (max of the smoothed error map),
    ``mse`` (mean squared error) and ``is_defect``, all on the CPU.
    """
    image = batch["image"]
    reconstruction = model(image)
    mse = error_map(image, reconstruction, "mse")
    if hasattr(model, "anomaly_map"):
        errors = model.anomaly_map(image)
    else:
        errors = mse if score.metric == "mse" else error_map(image, reconstruction, score.metric)
    smoothed = gaussian_blur(errors, score.smooth_sigma)
    return {
        "score": anomaly_scores(errors, score).double().cpu(),
        "peak": smoothed.flatten(1).amax(dim=1).double().cpu(),
        "mse": mse.flatten(1).mean(dim=1).double().cpu(),
        "is_defect": torch.as_tensor(batch["is_defect"]).long().cpu(),
    }


def _concat(outputs: list[dict[str, torch.Tensor]]) -> dict[str, np.ndarray]:
    return {key: torch.cat([o[key] for o in outputs]).numpy() for key in outputs[0]}


@torch.no_grad()
def score_dataset(
    model: nn.Module, dataset: RGBImages, score: ScoreConfig, batch_size: int = 32
) -> dict[str, np.ndarray]:
    """Score every image of ``dataset`` with ``model`` in eval mode.

    Returns:
        Arrays ``score``, ``peak``, ``mse``, ``is_defect`` (see :func:`score_batch`) and ``label``.
    """
    model.eval()
    device = next(model.parameters()).device
    outputs = []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        batch["image"] = batch["image"].to(device)
        outputs.append(score_batch(model, batch, score))
    return {**_concat(outputs), "label": np.asarray(dataset.labels)}


def per_type_recall(labels: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Share of images of each RGB label called defective (for ``normal``: called normal)."""
    out = {}
    for name in sorted(set(labels.tolist())):
        chosen = labels == name
        rate = float(predicted[chosen].mean())
        out[name] = 1.0 - rate if name == "normal" else rate
    return out
