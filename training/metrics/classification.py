"""Multi-class classification metrics in the evaluation-JSON contract shape (seed 003 §3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

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
    is_defect_true: np.ndarray, defect_score: np.ndarray, threshold: float = 0.5
) -> dict[str, Any]:
    """Normal vs defect metrics (seed 002 "이진 분류 성능").

    Args:
        is_defect_true: 0/1 ground truth per image.
        defect_score: Probability of *any* defect class per image.
        threshold: Score at or above which an image is called defective.

    Returns:
        ``accuracy, defect_recall, defect_precision, normal_recall, f1, roc_auc, support``.
    """
    truth = np.asarray(is_defect_true).astype(bool)
    pred = np.asarray(defect_score) >= threshold
    tp = int((pred & truth).sum())
    fp = int((pred & ~truth).sum())
    fn = int((~pred & truth).sum())
    tn = int((~pred & ~truth).sum())
    recall = tp / (tp + fn) if tp + fn else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    both = len(np.unique(truth)) == 2
    return {
        "accuracy": (tp + tn) / max(len(truth), 1),
        "defect_recall": recall,
        "defect_precision": precision,
        "normal_recall": tn / (tn + fp) if tn + fp else 0.0,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "roc_auc": float(roc_auc_score(truth, defect_score)) if both else None,
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
