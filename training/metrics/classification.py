"""Multi-class classification metrics in the evaluation-JSON contract shape (seed 003 §3)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

from core.errors import ThresholdError

__all__ = ["binary_metrics", "classification_metrics", "defect_mask", "roc_auc_macro"]


def defect_mask(class_names: Sequence[str]) -> np.ndarray:
    """Which classes are defects: every class whose name does not end in ``normal``."""
    return np.array([not name.endswith("normal") for name in class_names])


def roc_auc_macro(labels: np.ndarray, probs: np.ndarray) -> float | None:
    """One-vs-rest ROC-AUC averaged over the classes present in ``labels``.

    Classes absent from ``labels`` have no ROC curve and are skipped; returns ``None`` when
    fewer than two classes are present.
    """
    present = np.unique(labels)
    if present.size < 2:
        return None
    aucs = [roc_auc_score(labels == c, probs[:, c]) for c in present]
    return float(np.mean(aucs))


def binary_metrics(
    is_defect_true: Sequence[int] | np.ndarray,
    defect_score: Sequence[float] | np.ndarray,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Normal vs defect metrics (seed 002 "이진 분류 성능"), the one rule for CT, GAIN and RGB.

    An image is called defective when ``defect_score >= threshold`` (the rule of
    ``sklearn.metrics.roc_curve``, so a threshold picked from a ROC curve means the same here).
    A ratio whose denominator is zero (no defects, no predicted defects) is ``None``, never a
    made-up 0 or 1.

    Args:
        is_defect_true: 0/1 ground truth per image.
        defect_score: Probability of *any* defect class, or an anomaly score, per image.
        threshold: Score at or above which an image is called defective; must be finite.

    Returns:
        ``accuracy, f1, precision, defect_precision`` (same value), ``defect_recall,
        normal_recall, roc_auc`` (``None`` with one class), ``threshold, n_images, n_normal,
        n_defect, support`` and ``confusion_matrix`` (rows true normal/defect, columns predicted).

    Raises:
        ThresholdError: The threshold or a score is NaN or infinite.
    """
    if not math.isfinite(float(threshold)):
        raise ThresholdError(f"the threshold {threshold} is not a finite number.")
    truth = np.asarray(is_defect_true).astype(bool).ravel()
    score = np.asarray(defect_score, dtype=np.float64).ravel()
    if truth.shape != score.shape:
        raise ValueError(f"{truth.size} labels but {score.size} scores")
    if not np.isfinite(score).all():
        raise ThresholdError(f"{int((~np.isfinite(score)).sum())} of {score.size} scores are NaN or infinite.")
    pred = score >= threshold
    tp = int((pred & truth).sum())
    fp = int((pred & ~truth).sum())
    fn = int((~pred & truth).sum())
    tn = int((~pred & ~truth).sum())

    def ratio(a: int, b: int) -> float | None:
        return a / b if b else None

    precision = ratio(tp, tp + fp)
    both = tp + fn > 0 and tn + fp > 0
    return {
        "accuracy": (tp + tn) / truth.size if truth.size else None,
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "precision": precision,
        "defect_precision": precision,
        "defect_recall": ratio(tp, tp + fn),
        "normal_recall": ratio(tn, tn + fp),
        "roc_auc": float(roc_auc_score(truth, score)) if both else None,
        "threshold": float(threshold),
        "n_images": int(truth.size),
        "n_normal": tn + fp,
        "n_defect": tp + fn,
        "support": {"normal": tn + fp, "defect": tp + fn},
        "confusion_matrix": [[tn, fp], [fn, tp]],
    }


def classification_metrics(
    labels: Sequence[int], probs: np.ndarray, class_names: Sequence[str]
) -> dict[str, Any]:
    """Everything the CT evaluation reports, from true labels and predicted probabilities.

    Args:
        labels: True class index per image, shape ``[N]``.
        probs: Predicted class probabilities, shape ``[N, C]``.
        class_names: The ``C`` class names in index order.

    Returns:
        ``accuracy, macro_f1, macro_precision, macro_recall, roc_auc, per_class`` (name ->
        ``precision, recall, f1, support``), ``confusion_matrix`` (rows = truth, columns =
        prediction), ``binary`` (see :func:`binary_metrics`), ``n_images``. Macro averages run over
        the classes present in ``labels`` so that an absent class does not count as a zero.
    """
    labels = np.asarray(labels, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    n_classes = len(class_names)
    if probs.ndim != 2 or probs.shape != (labels.shape[0], n_classes):
        raise ValueError(f"probs must have shape ({labels.shape[0]}, {n_classes}), got {probs.shape}")
    pred = probs.argmax(axis=1)
    index = list(range(n_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, pred, labels=index, zero_division=0
    )
    present = support > 0
    per_class = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(class_names)
    }
    defects = defect_mask(class_names)
    return {
        "accuracy": float((pred == labels).mean()) if labels.size else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "macro_precision": float(precision[present].mean()) if present.any() else 0.0,
        "macro_recall": float(recall[present].mean()) if present.any() else 0.0,
        "roc_auc": roc_auc_macro(labels, probs),
        "per_class": per_class,
        "confusion_matrix": confusion_matrix(labels, pred, labels=index).tolist(),
        "binary": binary_metrics(defects[labels], probs[:, defects].sum(axis=1)),
        "n_images": int(labels.size),
    }
