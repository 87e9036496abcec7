"""CT task inference and evaluation: load a checkpoint, predict a split, score it, report."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from core.errors import CheckpointError
from training.config import ModelConfig
from training.metrics.calibration import (
    expected_calibration_error,
    fit_temperature,
    softmax_with_temperature,
)
from training.metrics.classification import classification_metrics
from training.tasks.common import load_task_model, normalise
from training.tasks.ct.config import CLASS_NAMES, CTDataConfig
from training.tasks.ct.data import _labels_of, _require_all_classes, make_dataset, make_loader
from training.tasks.ct.task import build_model

log = logging.getLogger(__name__)

__all__ = ["evaluate", "load_ct_model", "predict"]


def load_ct_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Build the CT model a checkpoint card describes and load its weights (float32, eval mode).

    Raises:
        CheckpointError: Missing files, a non-CT checkpoint, or weights of another architecture.
    """

    def build(card: dict[str, Any]) -> nn.Module:
        if not card.get("architecture"):
            raise CheckpointError(f"checkpoint {path} has no architecture in its card")
        return build_model(
            ModelConfig(architecture=card["architecture"], kwargs=dict(card.get("model_kwargs") or {})),
            num_classes=len(card.get("class_names") or CLASS_NAMES),
        )

    return load_task_model(path, "ct", build, device)


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, card: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels of every batch in ``loader``, normalised as the card says.

    Returns:
        ``(logits [N, C] float64, labels [N] int64)``.
    """
    device = next(model.parameters()).device
    norm = card.get("normalisation") or {}
    mean = float(np.asarray(norm.get("mean", 0.0)).reshape(-1)[0])
    std = float(np.asarray(norm.get("std", 1.0)).reshape(-1)[0])
    uses_meta = card.get("uses_meta", True)
    all_logits, all_labels = [], []
    for batch in loader:
        image = normalise(batch["image"].to(device), mean, std)
        meta = batch["meta"].to(device) if uses_meta and batch.get("meta") is not None else None
        all_logits.append(model(image, meta).float().cpu())
        all_labels.append(batch["label"])
    return torch.cat(all_logits).double().numpy(), torch.cat(all_labels).numpy()


def _data_config_from_card(card: Mapping[str, Any], batch_size: int = 64) -> CTDataConfig:
    data = dict((card.get("config") or {}).get("data") or {})
    norm = card.get("normalisation") or {}
    return CTDataConfig(
        input_size=int(card.get("input_size") or data.get("input_size") or 160),
        batch_size=batch_size,
        crop=bool((card.get("preprocessing") or {}).get("crop")),
        mean=float(np.asarray(norm.get("mean", 0.5)).reshape(-1)[0]),
        std=float(np.asarray(norm.get("std", 0.25)).reshape(-1)[0]),
        sampler="none",
        augment="none",
    )


def evaluate(
    checkpoint: str | Path,
    data_dir: str | Path,
    split: str = "test",
    report_dir: str | Path | None = None,
    limit: int | None = None,
    calibration_split: str | None = "val",
) -> dict[str, Any]:
    """Evaluate a CT checkpoint on one split of a dataset.

    Args:
        checkpoint: ``NAME.safetensors`` (with ``NAME.json``).
        data_dir: Dataset folder.
        split: Manifest split, or ``"all"`` for every row.
        report_dir: If given, write ``report.md``, ``confusion_matrix.png`` and ``roc.png`` there.
        limit: Evaluate at most this many images (evenly spaced over the split).
        calibration_split: Split used to fit a temperature when the card has none fitted
            (``None`` = use the card's temperature as is).

    Returns:
        Contract metrics: ``accuracy, macro_f1, roc_auc, per_class, confusion_matrix, binary``
        plus ``ece_before, ece_after, temperature, n_images, split, checkpoint``.

    Raises:
        CheckpointError: Bad or mismatching checkpoint.
        InputError: Unreadable data, or a split missing a CT class.
    """
    data_dir = Path(data_dir)
    model, card = load_ct_model(checkpoint)
    class_names = list(card.get("class_names") or CLASS_NAMES)
    cfg = _data_config_from_card(card)
    cfg.limit = limit
    dataset = make_dataset(data_dir, split, cfg, train=False)
    _require_all_classes(_labels_of(dataset), split, data_dir)
    logits, labels = predict(model, make_loader(dataset, cfg, 0, train=False), card)

    calibration = (card.get("metrics") or {}).get("calibration")
    temperature = float(card.get("temperature") or 1.0)
    if calibration is None and calibration_split and calibration_split != split:
        val_set = make_dataset(data_dir, calibration_split, cfg, train=False)
        val_logits, val_labels = predict(model, make_loader(val_set, cfg, 0, train=False), card)
        temperature = fit_temperature(val_logits, val_labels)
        log.info("card has no fitted temperature; fitted %.3f on %s", temperature, calibration_split)
    probs_raw = softmax_with_temperature(logits)
    probs = softmax_with_temperature(logits, temperature)
    metrics = classification_metrics(labels, probs, class_names)
    metrics.update(
        ece_before=expected_calibration_error(probs_raw, labels),
        ece_after=expected_calibration_error(probs, labels),
        temperature=temperature,
        split=split,
        checkpoint=str(checkpoint),
        architecture=card.get("architecture"),
    )
    if report_dir is not None:
        from training.reports import write_classification_report

        context = {
            "Checkpoint": f"`{Path(checkpoint).name}` ({card.get('architecture')})",
            "Data": f"`{data_dir}` split `{split}`",
        }
        write_classification_report(
            metrics, class_names, report_dir, labels, probs, title="CT classification report", context=context
        )
    return metrics
