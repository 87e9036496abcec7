"""Pixel-level anomaly metrics: pixel AUROC and PRO (per-region overlap) up to a false-positive rate.

PRO is anomalib's implementation (``anomalib.metrics.aupro``: connected components of the
ground truth, mean overlap per region against the false-positive rate, area up to ``fpr_limit``
divided by ``fpr_limit`` so a perfect map scores 1).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["pixel_auroc", "pro_auc"]


def pixel_auroc(maps: np.ndarray, masks: np.ndarray, max_pixels: int = 4_000_000, seed: int = 0) -> float | None:
    """ROC-AUC of every pixel's anomaly value against its mask label.

    Args:
        maps: ``[N, H, W]`` anomaly maps (higher = more anomalous).
        masks: ``[N, H, W]`` ground truth (non-zero = defect).
        max_pixels: Above this many pixels a uniform random subset is used (memory).
        seed: Seed of that subset.

    Returns:
        The AUROC, or ``None`` when the masks hold only one class.
    """
    from sklearn.metrics import roc_auc_score

    scores = np.asarray(maps, np.float64).ravel()
    labels = (np.asarray(masks) > 0).ravel()
    if labels.all() or not labels.any():
        return None
    if scores.size > max_pixels:
        keep = np.random.default_rng(seed).choice(scores.size, max_pixels, replace=False)
        scores, labels = scores[keep], labels[keep]
    return float(roc_auc_score(labels, scores))


def pro_auc(maps: np.ndarray, masks: np.ndarray, fpr_limit: float = 0.3) -> float | None:
    """Normalised area under the per-region-overlap curve up to ``fpr_limit`` (1 = perfect).

    Args:
        maps: ``[N, H, W]`` anomaly maps.
        masks: ``[N, H, W]`` ground truth (non-zero = defect).
        fpr_limit: Upper false-positive rate of the integrated range.

    Returns:
        AUPRO in ``[0, 1]``, or ``None`` without defect or without normal pixels.
    """
    from anomalib.metrics.aupro import _AUPRO

    target = np.asarray(masks) > 0
    if target.all() or not target.any():
        return None
    metric = _AUPRO(fpr_limit=fpr_limit)
    metric.update(torch.as_tensor(np.asarray(maps, np.float32)), torch.as_tensor(target.astype(np.int64)))
    return float(metric.compute())
