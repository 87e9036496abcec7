"""RGB task evaluation: score a split with a checkpoint and its stored threshold."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from inspector.anomaly import AnomalyDetector
from training.anomaly import binary_metrics
from training.metrics.bootstrap import battery_bootstrap, recall_on
from training.tasks.rgb.data import RGBImages
from training.tasks.rgb.report import write_report
from training.tasks.rgb.scoring import per_type_recall, score_dataset

__all__ = ["battery_intervals", "evaluate_checkpoint"]


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
        ``per_type_recall`` ({label: recall}), ``score_stats``, ``split`` and ``checkpoint``;
        ``detection_at_1pct_false_alarm`` (threshold at the 99th percentile of this split's
        normal scores: the measured false-alarm rate and the recall of each defect type) and the
        pixel metrics of the masks (:func:`pixel_metrics`: ``pixel_auroc``, ``pro_auc``, per type);
        ``ci``: 95 % intervals resampled by battery (:func:`battery_intervals`).

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
    metrics["detection_at_1pct_false_alarm"] = detection_at_false_alarm(scored["label"], scored["score"], 0.01)
    metrics["ci"] = battery_intervals(np.asarray(dataset.battery_ids), scored["is_defect"], scored["score"], detector.threshold)
    metrics.update(pixel_metrics(detector, dataset))
    metrics.update(split=split, checkpoint=str(checkpoint), score_method=asdict(detector.score))
    if report_dir is not None:
        write_report(report_dir, scored, metrics)
    return metrics


def battery_intervals(
    groups: np.ndarray, is_defect: np.ndarray, scores: np.ndarray, threshold: float, n_resamples: int = 1000
) -> dict[str, Any]:
    """95 % battery-bootstrap intervals of image AUROC and of defect/normal recall at ``threshold``.

    Args:
        groups: Battery id of every photo.
        is_defect: 1 for defect photos, 0 for normals.
        scores: Image anomaly scores.
        threshold: The checkpoint's threshold (a score above it is called defective).
        n_resamples: Bootstrap resamples.

    Returns:
        ``{"roc_auc", "defect_recall", "normal_recall"}``, each as :func:`battery_bootstrap` returns.
    """
    from sklearn.metrics import roc_auc_score

    truth = np.asarray(is_defect).astype(bool)
    called = np.asarray(scores) > threshold

    def auroc(idx: np.ndarray) -> float | None:
        y = truth[idx]
        return float(roc_auc_score(y, scores[idx])) if 0 < y.sum() < y.size else None

    return {
        "roc_auc": battery_bootstrap(groups, auroc, n_resamples),
        "defect_recall": battery_bootstrap(groups, recall_on(truth, called, True), n_resamples),
        "normal_recall": battery_bootstrap(groups, recall_on(truth, called, False), n_resamples),
    }


def detection_at_false_alarm(labels: np.ndarray, scores: np.ndarray, false_alarm: float) -> dict[str, Any]:
    """Recall of each defect type at the threshold that lets ``false_alarm`` of the normals through.

    The threshold is the smallest score above the ``1 - false_alarm`` quantile of the normal
    scores (an oracle threshold of the split itself: it compares detectors at equal false alarms).
    """
    normal = scores[labels == "normal"]
    if not normal.size:
        return {"false_alarm_target": false_alarm, "threshold": None, "false_alarm": None, "recall": {}}
    threshold = float(np.nextafter(np.quantile(normal, 1.0 - false_alarm, method="higher"), np.inf))
    kinds = sorted(set(labels.tolist()) - {"normal"})
    defect = labels != "normal"
    return {
        "false_alarm_target": false_alarm,
        "threshold": threshold,
        "false_alarm": float(np.mean(normal >= threshold)),
        "recall": {k: float(np.mean(scores[labels == k] >= threshold)) for k in kinds},
        "recall_all": float(np.mean(scores[defect] >= threshold)) if defect.any() else None,
    }


def pixel_metrics(detector: AnomalyDetector, dataset: RGBImages, fpr_limit: float = 0.3) -> dict[str, Any]:
    """Pixel AUROC and PRO (up to ``fpr_limit``) of the detector's maps against the defect masks.

    Maps and masks are compared at model resolution inside the detector's crop window (the mask
    is cut exactly as the photo). Normal photos count with empty masks. Per defect type, the
    metrics use that type's photos plus all normals.

    Returns:
        ``pixel_auroc``, ``pro_auc``, ``pixel_per_type`` ({label: {pixel_auroc, pro_auc}}) and
        ``pixel_fpr_limit``; values are ``None`` when the split has no masks.
    """
    import torch

    from core.imageio import load_image
    from core.manifest import read_manifest
    from core.preprocessing.rgb_crop import resize_square
    from core.window import crop_window
    from training.metrics.pixel_anomaly import pixel_auroc, pro_auc

    frame = read_manifest(dataset.root, check_files=False).set_index("image_path")
    maps, masks = [], []
    for rel in dataset.paths:
        image = load_image(dataset.root / rel, "rgb")
        x, windows = detector.preprocess(image)
        with torch.no_grad():
            maps.append(detector.score_tensor(x)[1][0].cpu().numpy())
        mask_rel = frame.loc[rel, "mask_path"] if rel in frame.index else ""
        mask = np.zeros(image.shape[:2], np.uint8)
        if isinstance(mask_rel, str) and mask_rel:
            mask = _read_mask(dataset.root / mask_rel)
        window = windows[0]
        cut = crop_window(mask, window, fill="replicate") if detector.crop.enabled else mask
        masks.append(resize_square(np.repeat(cut[..., None], 3, 2), detector.input_size)[..., 0] >= 128)
    labels = np.asarray(dataset.labels)
    all_maps, all_masks = np.stack(maps), np.stack(masks)
    out: dict[str, Any] = {
        "pixel_auroc": pixel_auroc(all_maps, all_masks),
        "pro_auc": pro_auc(all_maps, all_masks, fpr_limit),
        "pixel_fpr_limit": fpr_limit,
        "pixel_per_type": {},
    }
    for kind in sorted(set(labels.tolist()) - {"normal"}):
        chosen = (labels == kind) | (labels == "normal")
        out["pixel_per_type"][kind] = {
            "pixel_auroc": pixel_auroc(all_maps[chosen], all_masks[chosen]),
            "pro_auc": pro_auc(all_maps[chosen], all_masks[chosen], fpr_limit),
        }
    return out


def _read_mask(path: Path) -> np.ndarray:
    import cv2

    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise FileNotFoundError(f"cannot read mask {path}")
    return mask


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None
