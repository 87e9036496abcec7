"""RGB task evaluation: score a split with a checkpoint and its stored threshold."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from inspector.anomaly import AnomalyDetector
from training.anomaly import binary_metrics
from training.tasks.rgb.data import RGBImages
from training.tasks.rgb.report import write_report
from training.tasks.rgb.scoring import per_type_recall, score_dataset

__all__ = ["evaluate_checkpoint"]


def evaluate_checkpoint(
    checkpoint: str | Path,
    data_dir: str | Path,
    split: str = "test",
    limit: int | None = None,
    report_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Score a split with a trained checkpoint and its stored (val-chosen) threshold.

    Returns:
        The contract keys ``roc_auc, threshold, accuracy, f1, defect_recall, normal_recall`` plus
        ``precision``, ``n_images``, ``n_normal``, ``n_defect``, ``confusion_matrix``,
        ``per_type_recall`` ({label: recall}), ``score_stats``, ``split`` and ``checkpoint``.

    Raises:
        CheckpointError: Missing or mismatched checkpoint.
        ThresholdError: The card has no finite threshold.
        InputError: The split has no RGB images.
    """
    detector = AnomalyDetector.from_checkpoint(str(checkpoint))
    dataset = RGBImages(data_dir, split, detector.crop, limit=limit)
    scored = score_dataset(detector.model, dataset, detector.score)
    metrics = binary_metrics(scored["is_defect"], scored["score"], detector.threshold)
    predicted = scored["score"] > detector.threshold
    metrics["per_type_recall"] = per_type_recall(scored["label"], predicted)
    metrics["score_stats"] = {
        "normal_mean": _mean(scored["score"][scored["is_defect"] == 0]),
        "defect_mean": _mean(scored["score"][scored["is_defect"] == 1]),
    }
    metrics.update(split=split, checkpoint=str(checkpoint), score_method=asdict(detector.score))
    if report_dir is not None:
        write_report(report_dir, scored, metrics)
    return metrics


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None
