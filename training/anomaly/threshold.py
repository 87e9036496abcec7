"""Threshold selection by Youden's J on validation scores, its guards, and the contract metrics.

The seed's failures this module exists to prevent (seed 002 §2-1): a NaN threshold reaching the
test script, and a k-sigma threshold computed on training data. :func:`youden_threshold` only
accepts finite scores of a split holding normals *and* defects, and always returns a finite
threshold strictly between two observed scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from core.errors import ThresholdError
from training.metrics.classification import binary_metrics

__all__ = [
    "ThresholdError",
    "ThresholdResult",
    "binary_metrics",
    "check_scores",
    "youden_threshold",
]


@dataclass(frozen=True)
class ThresholdResult:
    """A validation-chosen threshold (``is_defect = score >= threshold``) and how good it is."""

    threshold: float
    youden_j: float
    tpr: float
    fpr: float
    roc_auc: float
    n_normal: int
    n_defect: int

    def to_dict(self) -> dict[str, float | int]:
        """Plain dict for a checkpoint card."""
        return asdict(self)


def _validate_scores(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, what: str):
    y = np.asarray(labels).astype(int).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"{y.size} labels but {s.size} scores")
    if s.size == 0:
        raise ThresholdError(f"{what} has no images to score.")
    bad = int((~np.isfinite(s)).sum())
    if bad:
        raise ThresholdError(
            f"{bad} of {s.size} anomaly scores on {what} are NaN or infinite; the model diverged or "
            "an input is broken, so no threshold can be chosen."
        )
    if not set(np.unique(y)) <= {0, 1}:
        raise ValueError("labels must be 0 (normal) or 1 (defect)")
    return y, s


def check_scores(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    split: str = "the validation split",
) -> None:
    """Raise :class:`ThresholdError` unless the scores are finite and both classes are present."""
    y, _ = _validate_scores(labels, scores, split)
    n_defect = int(y.sum())
    if n_defect == 0 or n_defect == y.size:
        missing = "defect" if n_defect == 0 else "normal"
        raise ThresholdError(
            f"{split} has no {missing} images; Youden's J needs both normals and defects to choose a threshold."
        )


def youden_threshold(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    split: str = "the validation split",
) -> ThresholdResult:
    """Choose the threshold that maximises Youden's J = TPR - FPR.

    Candidate thresholds are the midpoints between consecutive distinct scores, so the result is
    always a finite number strictly between a normal and a defect score (``>`` and ``>=`` agree
    on every validation image). Ties in J go to the highest threshold (fewest false alarms).

    Args:
        labels: 1 for defect, 0 for normal.
        scores: Anomaly scores (higher = more anomalous).
        split: Name used in error messages.

    Returns:
        The chosen threshold with its J, TPR, FPR and the ROC-AUC of the scores.

    Raises:
        ThresholdError: Scores are NaN/inf, the split lacks normals or defects, or no threshold
            does better than chance (best J <= 0).
    """
    from sklearn.metrics import roc_auc_score

    check_scores(labels, scores, split)
    y, s = _validate_scores(labels, scores, split)
    n_defect, n_normal = int(y.sum()), int((1 - y).sum())
    distinct = np.unique(s)  # ascending
    if distinct.size == 1:
        raise ThresholdError(
            f"every anomaly score on {split} is {distinct[0]:.6g}; the scores do not separate."
        )
    candidates = (distinct[:-1] + distinct[1:]) / 2.0
    predicted = s[None, :] > candidates[:, None]  # [n_candidates, n_images]
    tpr = (predicted & (y == 1)).sum(axis=1) / n_defect
    fpr = (predicted & (y == 0)).sum(axis=1) / n_normal
    j = tpr - fpr
    best = int(np.flatnonzero(j == j.max())[-1])  # highest threshold among ties
    if j[best] <= 0:
        raise ThresholdError(
            f"no threshold separates defects from normals on {split} (best Youden's J = {j[best]:.3f}); "
            "the anomaly scores carry no signal."
        )
    return ThresholdResult(
        threshold=float(candidates[best]),
        youden_j=float(j[best]),
        tpr=float(tpr[best]),
        fpr=float(fpr[best]),
        roc_auc=float(roc_auc_score(y, s)),
        n_normal=n_normal,
        n_defect=n_defect,
    )
