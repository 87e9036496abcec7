"""``evaluate vlm``: zero-shot normal/defect accuracy of a VLM over a manifest split.

As seed 002 did for Qwen3-VL-2B, the model sees only the image (no detector evidence) and
its ``defect_detected`` is compared with the manifest's ``is_defect``. A failed answer
counts as wrong in ``accuracy`` and is reported in ``n_failed``.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from core.errors import BackendUnavailable, ConfigError, InspectorError
from inspector.evaluation.dataset import iter_samples, select_rows
from models.vlm import FindingRequest, VLMBackend, create_vlm

log = logging.getLogger(__name__)


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def evaluate_vlm(backend: VLMBackend, rows: Any, lang: str = "en") -> dict[str, Any]:
    """Score ``backend`` on the manifest ``rows``.

    Returns:
        ``accuracy`` (failures count as wrong), ``accuracy_answered``, ``defect_recall``,
        ``normal_recall``, ``f1``, ``confusion_matrix`` ([[TN, FP], [FN, TP]]), per-modality
        accuracy, ``n_images``, ``n_failed``, ``mean_latency_ms`` and the first errors.
    """
    tp = tn = fp = fn = failed = 0
    per_modality: dict[str, list[int]] = {}
    latencies: list[float] = []
    errors: list[str] = []
    for sample in iter_samples(rows):
        request = FindingRequest(
            ct_image=sample.image if sample.modality == "ct" else None,
            rgb_image=sample.image if sample.modality == "rgb" else None,
            battery_type=sample.battery_type,
            axis=sample.axis,
            lang=lang,
        )
        start = time.perf_counter()
        try:
            predicted = backend.describe(request).defect_detected
        except InspectorError as exc:
            failed += 1
            if len(errors) < 5:
                errors.append(f"{sample.path}: {exc}")
            predicted = None
        latencies.append((time.perf_counter() - start) * 1000.0)
        correct = predicted is not None and predicted == sample.is_defect
        stats = per_modality.setdefault(sample.modality, [0, 0])
        stats[0] += int(correct)
        stats[1] += 1
        if predicted is None:
            fn += int(sample.is_defect)
            fp += int(not sample.is_defect)
        elif sample.is_defect:
            tp += int(predicted)
            fn += int(not predicted)
        else:
            tn += int(not predicted)
            fp += int(predicted)
    n = tp + tn + fp + fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    answered = n - failed
    return {
        "backend": backend.name,
        "accuracy": _rate(tp + tn, n),
        "accuracy_answered": _rate(tp + tn, answered) if answered else None,
        "defect_recall": _rate(tp, tp + fn),
        "normal_recall": _rate(tn, tn + fp),
        "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "confusion_matrix": [[tn, fp], [fn, tp]],
        "per_modality_accuracy": {m: _rate(c, t) for m, (c, t) in per_modality.items()},
        "n_images": n,
        "n_failed": failed,
        "mean_latency_ms": round(sum(latencies) / len(latencies), 1) if latencies else None,
        "errors": errors,
    }


def evaluate_from_cli(args: argparse.Namespace) -> dict[str, Any]:
    """``python -m inspector evaluate vlm --backend NAME --data DIR [--split S] [--limit N]``."""
    if not args.backend:
        raise ConfigError("evaluate vlm needs --backend NAME (e.g. gemini or qwen3_vl)")
    backend = create_vlm(args.backend)
    if not backend.is_model:
        raise ConfigError(
            f"{args.backend} writes from the inspector's evidence and has no zero-shot reading; "
            "evaluate the inspector's models with evaluate ct / rgb instead"
        )
    status = backend.availability()
    if not status.ok:
        raise BackendUnavailable(f"{args.backend} is not available: {status.reason}")
    rows = select_rows(args.data, args.split, getattr(args, "limit", None))
    log.info("evaluating VLM %s on %d images of split %s", args.backend, len(rows), args.split)
    metrics = evaluate_vlm(backend, rows, lang=getattr(args, "lang", None) or "en")
    return {**metrics, "split": args.split, "data": str(args.data)}
