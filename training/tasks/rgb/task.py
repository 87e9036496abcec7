"""RGB task: :class:`RGBAnomalyTask` (reconstruction training, ROC-AUC validation, the card)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import nn

from training.anomaly import ThresholdError, check_scores, corrupt_batch, youden_threshold
from training.losses.localisation import soft_dice_loss
from training.tasks import Task
from training.tasks.common import provenance
from training.tasks.rgb.config import CLASS_NAMES, RGBConfig, data_crop
from training.tasks.rgb.scoring import _concat, score_batch

log = logging.getLogger(__name__)

__all__ = ["RGBAnomalyTask", "score_statistics"]


class RGBAnomalyTask(Task):
    """Reconstruction training on normals; validation by ROC-AUC and Youden's J on normals + defects.

    Args:
        model: Autoencoder ``[B, 3, S, S] -> [B, 3, S, S]``.
        config: The full :class:`RGBConfig` (model, data, score sections go into the card).
        data_fingerprint: Fingerprint of the training dataset, for the card.
    """

    name = "rgb"
    monitor = ("roc_auc", "max")

    def __init__(self, model: nn.Module, config: RGBConfig, data_fingerprint: Any = None) -> None:
        self.model = model
        self.config = config
        self.data_fingerprint = data_fingerprint
        self.threshold: float | None = None
        self.score_stats: dict[str, float] = {}

    def training_step(self, batch: Mapping[str, Any], epoch_progress: float) -> dict[str, Any]:
        clean = batch["image"]
        if self.config.corrupt.p <= 0:
            return {"loss": F.mse_loss(self.model(clean), clean)}
        # denoising: reconstruct the clean normal image from a synthetically corrupted copy,
        # with the corrupted pixels weighted up so that removing them is learnt early
        corrupted, mask = corrupt_batch(clean, self.config.corrupt, regions=batch.get("region"))
        weight = self.config.corrupt.weight
        reconstruction = self.model(corrupted)
        squared = (reconstruction - clean).pow(2)
        out = {"mse": squared.detach().mean(), "loss": (squared * (1.0 + weight * mask)).mean()}
        if hasattr(self.model, "segment"):  # DRAEM: the head learns where the corruptions are
            logits = self.model.segment(corrupted, reconstruction.detach())
            pos_weight = torch.tensor(max(weight, 1.0), device=logits.device)
            out["seg_loss"] = F.binary_cross_entropy_with_logits(logits, mask, pos_weight=pos_weight)
            if self.config.corrupt.dice > 0:
                out["dice_loss"] = soft_dice_loss(torch.sigmoid(logits), mask)
                out["seg_loss"] = out["seg_loss"] + self.config.corrupt.dice * out["dice_loss"]
            out["loss"] = out["loss"] + out["seg_loss"]
        return out

    def validation_step(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        return score_batch(self.model, batch, self.config.score)

    def validation_end(self, outputs: list[dict[str, Any]]) -> dict[str, float]:
        scored = _concat(outputs)
        labels, scores = scored["is_defect"], scored["score"]
        check_scores(labels, scores, "the validation split")
        metrics = {
            "roc_auc": float(roc_auc_score(labels, scores)),
            "normal_mse": float(scored["mse"][labels == 0].mean()),
            "defect_mse": float(scored["mse"][labels == 1].mean()),
        }
        try:
            result = youden_threshold(labels, scores, split="the validation split")
        except ThresholdError as exc:  # an untrained model early on: no threshold yet, keep going
            log.warning("no threshold this epoch: %s", exc)
            self.threshold = None
            return metrics
        self.threshold = result.threshold
        self.score_stats = score_statistics(labels, scores, scored["peak"])
        return {**metrics, "threshold": result.threshold, "youden_j": result.youden_j}

    def card(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "task": "rgb",
            "architecture": cfg.model.architecture,
            "model_kwargs": dict(cfg.model.kwargs),
            "class_names": CLASS_NAMES,
            "input_size": cfg.data.input_size,
            "preprocessing": data_crop(cfg.data).to_card(),
            "normalisation": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
            "threshold": self.threshold,
            "threshold_method": "youden_j_on_val",
            "score_method": asdict(cfg.score),
            "score_stats": dict(self.score_stats),
            **provenance(cfg, self.data_fingerprint),
        }


def score_statistics(labels: np.ndarray, scores: np.ndarray, peaks: np.ndarray) -> dict[str, float]:
    """What the runtime needs besides the threshold, from validation scores.

    Returns:
        ``normal_mean/std``, ``defect_mean/std`` of the scores; ``score_scale`` (the logistic
        scale of :func:`training.anomaly.defect_probability`: the normal scores' std); and
        ``error_scale`` (95th percentile over normal images of the peak smoothed pixel error).
    """
    normal, defect = scores[labels == 0], scores[labels == 1]
    stats = {
        "normal_mean": float(normal.mean()),
        "normal_std": float(normal.std()),
        "defect_mean": float(defect.mean()) if defect.size else None,
        "defect_std": float(defect.std()) if defect.size else None,
        "score_scale": float(max(normal.std(), 1e-8)),
        "error_scale": float(max(np.percentile(peaks[labels == 0], 95), 1e-8)),
    }
    return {k: v for k, v in stats.items() if v is not None}
