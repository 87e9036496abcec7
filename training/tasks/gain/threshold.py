"""GAIN task decision threshold: the highest one that keeps the configured recall on val."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from training.tasks.gain.config import _config_from_card
from training.tasks.gain.data import GainSplit
from training.tasks.gain.evaluation import predict_maps

__all__ = ["choose_threshold", "tune_threshold"]


def choose_threshold(probs: np.ndarray, labels: np.ndarray, min_recall: float, default: float = 0.5) -> float:
    """The highest decision threshold whose recall on ``(probs, labels)`` is at least ``min_recall``.

    Candidates are the distinct defect-image probabilities (a threshold equal to one keeps that
    image); the result is clipped to ``[0.01, 0.99]``. Without defect images, ``default``.
    """
    positives = np.sort(np.asarray(probs, dtype=np.float64)[np.asarray(labels) == 1])
    if positives.size == 0:
        return default
    # keep at least ceil(min_recall * n) positives above the threshold
    keep = int(np.ceil(min_recall * positives.size - 1e-9))
    threshold = positives[positives.size - keep] if keep > 0 else positives[-1]
    return float(np.clip(threshold, 0.01, 0.99))


def tune_threshold(model: nn.Module, card: Mapping[str, Any], val_set: GainSplit) -> float:
    """Tune the card's decision threshold on ``val_set`` (see :class:`GainEvalConfig`)."""
    config = _config_from_card(card)
    if config.eval.min_recall is None:
        return config.eval.threshold
    probs = []
    for batch in DataLoader(val_set, batch_size=64, shuffle=False):
        probs.append(predict_maps(model, card, batch["image"])["prob"])
    labels = val_set.is_defect.numpy()
    return choose_threshold(torch.cat(probs).numpy(), labels, config.eval.min_recall, config.eval.threshold)
