"""``evaluate vlg``: box recall at IoU 0.3 of a grounding backend over a manifest split.

Each ground-truth box of a defect image counts as found when a predicted box of the same
image overlaps it with IoU >= 0.3 (one-to-one greedy matching). Normal images measure false
alarms. Image backends see the image alone; offline backends that read the inspector's
evidence (``model_boxes``) get it from the shipped models through :mod:`inspector.pipeline`
(or from one ``--checkpoint``, evaluated on the rows of its modality).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import BackendUnavailable, CheckpointError, ConfigError, InspectorError
from inspector.evaluation.dataset import Sample, iter_samples, match_boxes, select_rows
from models.vlg import VLGBackend, create_vlg
from models.vlm import FindingRequest

log = logging.getLogger(__name__)

IOU_THRESHOLD = 0.3

RequestFactory = Callable[[Sample], FindingRequest]


def image_request(sample: Sample) -> FindingRequest:
    """A request with only the sample's image (what a text-prompted detector sees)."""
    return FindingRequest(
        ct_image=sample.image if sample.modality == "ct" else None,
        rgb_image=sample.image if sample.modality == "rgb" else None,
        battery_type=sample.battery_type,
        axis=sample.axis,
    )


def load_inspector(checkpoint: str | None = None) -> Any:
    """The inspector whose maps offline backends read: the shipped defaults, or one checkpoint.

    Raises:
        CheckpointError: The checkpoint's card cannot be read, or no model can be loaded.
    """
    from inspector.pipeline import Inspector, InspectorSettings

    if checkpoint is None:
        inspector = Inspector.load()
    else:
        card = Path(checkpoint).with_suffix(".json")
        try:
            task = json.loads(card.read_text())["task"]
        except (OSError, ValueError, KeyError) as exc:
            raise CheckpointError(f"cannot read the task from the card {card} ({exc})") from exc
        side = "rgb" if task == "rgb" else "ct"
        inspector = Inspector.load(InspectorSettings(**{f"{side}_checkpoint": checkpoint}), sides=(side,))
    if not any(inspector.predictors.values()):
        raise CheckpointError("; ".join(inspector.missing.values()) or "no inspector model could be loaded")
    return inspector


def inspector_request_factory(inspector: Any) -> RequestFactory:
    """Requests carrying ``inspector``'s evidence (attention / error maps, boxes) for each sample."""

    def make(sample: Sample) -> FindingRequest:
        evidence = inspector.analyse(
            ct=sample.image if sample.modality == "ct" else None,
            rgb=sample.image if sample.modality == "rgb" else None,
            battery_type=sample.battery_type,
            axis=sample.axis,
        )
        return evidence.finding_request()

    return make


def _rate(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def evaluate_vlg(
    backend: VLGBackend,
    rows: Any,
    iou: float = IOU_THRESHOLD,
    make_request: RequestFactory = image_request,
) -> dict[str, Any]:
    """Score ``backend`` on the manifest ``rows``.

    Returns:
        ``box_recall`` (found / ground-truth boxes), ``box_precision`` (matching / predicted
        boxes on defect images), ``defect_image_hit_rate`` (defect images with >= 1 ground-truth
        box found), ``defect_image_any_box_rate`` (defect images with >= 1 box at all),
        ``normal_false_alarm_rate`` (normal images with >= 1 box), counts, ``n_failed`` and
        ``mean_latency_ms``.
    """
    gt_total = gt_found = pred_total = pred_matched = 0
    defect_images = defect_hits = defect_any = normal_images = normal_alarms = failed = 0
    latencies: list[float] = []
    errors: list[str] = []
    for sample in iter_samples(rows):
        start = time.perf_counter()
        try:
            boxes = [
                b["box"] for b in backend.detect(make_request(sample)) if b.get("modality") == sample.modality
            ]
        except InspectorError as exc:
            failed += 1
            if len(errors) < 5:
                errors.append(f"{sample.path}: {exc}")
            boxes = []
        latencies.append((time.perf_counter() - start) * 1000.0)
        if sample.is_defect:
            defect_images += 1
            defect_any += int(bool(boxes))
            found, matched = match_boxes(sample.boxes, boxes, iou)
            defect_hits += int(found > 0)
            gt_total += len(sample.boxes)
            gt_found += found
            pred_total += len(boxes)
            pred_matched += matched
        else:
            normal_images += 1
            normal_alarms += int(bool(boxes))
    return {
        "backend": backend.name,
        "iou_threshold": iou,
        "box_recall": _rate(gt_found, gt_total),
        "box_precision": _rate(pred_matched, pred_total),
        "defect_image_hit_rate": _rate(defect_hits, defect_images),
        "defect_image_any_box_rate": _rate(defect_any, defect_images),
        "normal_false_alarm_rate": _rate(normal_alarms, normal_images),
        "n_images": defect_images + normal_images,
        "n_defect_images": defect_images,
        "n_gt_boxes": gt_total,
        "n_pred_boxes": pred_total,
        "n_failed": failed,
        "mean_latency_ms": round(sum(latencies) / len(latencies), 1) if latencies else None,
        "errors": errors,
    }


def evaluate_from_cli(args: argparse.Namespace) -> dict[str, Any]:
    """``python -m inspector evaluate vlg --backend NAME --data DIR [--split S] [--limit N] [--checkpoint P]``.

    ``--checkpoint`` only matters for offline backends (``model_boxes``): the inspector model
    whose maps they read; by default the shipped ones.
    """
    if not args.backend:
        raise ConfigError("evaluate vlg needs --backend NAME (e.g. grounding_dino or model_boxes)")
    backend = create_vlg(args.backend)
    status = backend.availability()
    if not status.ok:
        raise BackendUnavailable(f"{args.backend} is not available: {status.reason}")
    rows = select_rows(args.data, args.split, getattr(args, "limit", None))
    make_request = image_request
    if not backend.is_model:
        inspector = load_inspector(getattr(args, "checkpoint", None))
        sides = [side for side, predictor in inspector.predictors.items() if predictor is not None]
        if set(rows["modality"]) - set(sides):
            log.warning(
                "no %s model loaded: evaluating only the %s rows",
                "/".join(sorted(set(rows["modality"]) - set(sides))),
                "/".join(sides),
            )
        rows = rows[rows["modality"].isin(sides)]
        if rows.empty:
            raise CheckpointError(f"split {args.split!r} has no rows of the loaded model's modality")
        make_request = inspector_request_factory(inspector)
    log.info("evaluating VLG %s on %d images of split %s", args.backend, len(rows), args.split)
    metrics = evaluate_vlg(backend, rows, make_request=make_request)
    return {**metrics, "split": args.split, "data": str(args.data)}
