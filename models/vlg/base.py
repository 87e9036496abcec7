"""The VLG interface: text-prompted defect boxes on the CT and RGB images.

An image backend subclasses :class:`VLGBackend` and overrides two hooks:

* ``_check_availability()`` -> :class:`Availability` (cached by the base class), and
* ``_predict(image, prompts)`` -> ``list[Detection]`` with ``xyxy`` pixel corners on the
  ``uint8`` ``HxWx3`` image it was given.

The base class does the shared work: availability caching, per-modality prompt lists,
score thresholding, non-maximum suppression, mapping prompt phrases to our defect types,
conversion to contract boxes ``{label, score, box: [x, y, w, h]}`` clipped to the image,
timing and error wrapping. Backends that do not look at pixels (``model_boxes``) override
``_detect_modality(request, modality)`` instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from core.errors import BackendUnavailable, ConfigError, InspectorError
from models.vlg.prompts import DEFAULT_PROMPTS, map_label
from models.vlm.base import (
    MODALITIES,
    Availability,
    BackendError,
    CachedAvailability,
    FindingRequest,
    to_rgb8,
)

log = logging.getLogger(__name__)

__all__ = [
    "Availability",
    "Detection",
    "FindingRequest",
    "VLGBackend",
    "nms",
    "verdict_from_boxes",
    "xyxy_to_box",
]


@dataclass
class Detection:
    """One raw detection: a phrase, a score and pixel corners ``[x0, y0, x1, y1]``."""

    label: str
    score: float
    xyxy: Sequence[float]
    source: str | None = None


def nms(detections: list[Detection], iou_threshold: float) -> list[Detection]:
    """Greedy class-agnostic non-maximum suppression, best score first."""
    kept: list[Detection] = []
    for det in sorted(detections, key=lambda d: d.score, reverse=True):
        if all(box_iou_xyxy(det.xyxy, k.xyxy) <= iou_threshold for k in kept):
            kept.append(det)
    return kept


def box_iou_xyxy(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``[x0, y0, x1, y1]`` boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def xyxy_to_box(xyxy: Sequence[float], width: int, height: int) -> list[float] | None:
    """Clip ``[x0, y0, x1, y1]`` to the image and return ``[x, y, w, h]`` (``None`` if empty)."""
    x0, x1 = sorted((float(xyxy[0]), float(xyxy[2])))
    y0, y1 = sorted((float(xyxy[1]), float(xyxy[3])))
    x0, x1 = np.clip([x0, x1], 0, width)
    y0, y1 = np.clip([y0, y1], 0, height)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return [round(float(x0), 1), round(float(y0), 1), round(float(x1 - x0), 1), round(float(y1 - y0), 1)]


def verdict_from_boxes(
    boxes: list[dict[str, Any]], threshold: float, modalities: Sequence[str] = MODALITIES
) -> tuple[str, float]:
    """A VLG's verdict and confidence from its boxes: the top box score per modality vs ``threshold``.

    A modality whose top score reaches ``threshold`` is defective (CT -> internal, RGB ->
    external, both -> composite). Confidence follows the inspector's rule: a defective side
    counts its top score, a normal side ``1 - top score``; a defect verdict averages its
    defective sides, ``normal`` averages every side looked at.

    Args:
        boxes: Contract boxes with ``modality`` and ``score``.
        threshold: The backend's score threshold.
        modalities: The images the backend looked at.
    """
    top = {m: max((float(b.get("score") or 0.0) for b in boxes if b.get("modality") == m), default=0.0)
           for m in modalities}
    flagged = {m: s >= threshold and s > 0 for m, s in top.items()}
    ct, rgb = flagged.get("ct", False), flagged.get("rgb", False)
    verdict = ("normal", "internal_defect", "external_defect", "composite_defect")[int(ct) + 2 * int(rgb)]
    if verdict == "normal":
        values = [1.0 - s for s in top.values()] or [1.0]
    else:
        values = [top[m] for m, f in flagged.items() if f]
    return verdict, round(float(min(1.0, max(0.0, sum(values) / len(values)))), 4)


class VLGBackend(CachedAvailability):
    """Base class of the grounding backends.

    Args:
        prompts: Per-modality prompt lists, ``{"ct": [...], "rgb": [...]}``; defaults to the
            lists of seed 002 §5 (:data:`models.vlg.prompts.DEFAULT_PROMPTS`).
        box_threshold: Minimum detection score kept.
        nms_iou: IoU above which a lower-scored overlapping box is dropped.
        max_boxes: At most this many boxes per image.
        **cfg: Nothing: options a backend does not declare are a :class:`ConfigError`.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    is_model: ClassVar[bool] = True
    uses_prompts: ClassVar[bool] = True
    #: Top box score at or above which a modality counts as defective (per backend).
    default_verdict_threshold: ClassVar[float] = 0.35

    def __init__(
        self,
        prompts: dict[str, Sequence[str]] | None = None,
        box_threshold: float = 0.3,
        nms_iou: float = 0.5,
        max_boxes: int = 10,
        verdict_threshold: float | None = None,
        **cfg: Any,
    ) -> None:
        self.prompts = {m: list((prompts or {}).get(m, DEFAULT_PROMPTS[m])) for m in MODALITIES}
        self.box_threshold = float(box_threshold)
        self.nms_iou = float(nms_iou)
        self.max_boxes = int(max_boxes)
        self.verdict_threshold = float(
            self.default_verdict_threshold if verdict_threshold is None else verdict_threshold
        )
        if cfg:
            raise ConfigError(f"unknown option(s) for the {self.name} VLG: {', '.join(sorted(cfg))}")
        self._availability: Availability | None = None
        self.last_latency_ms: float | None = None

    # -- hooks -----------------------------------------------------------------------------
    def _predict(self, image: np.ndarray, prompts: list[str]) -> list[Detection]:
        """Detect ``prompts`` on a ``uint8`` ``HxWx3`` image; ``xyxy`` in its pixels."""
        raise NotImplementedError(f"{type(self).__name__} must implement _predict")

    def _detect_modality(self, request: FindingRequest, modality: str) -> list[Detection]:
        """Raw detections for one modality of ``request`` (default: run :meth:`_predict`)."""
        return self._predict(request.image_rgb8(modality), self.prompts[modality])

    # -- shared work -----------------------------------------------------------------------
    def detect(self, request: FindingRequest) -> list[dict[str, Any]]:
        """Boxes for every image in ``request`` (CT first, then RGB).

        Returns:
            Contract boxes ``{label, score, box: [x, y, w, h], modality}`` in pixels of the
            input image of their ``modality``, plus the matched ``prompt`` (text-prompted
            backends) or the ``source`` map (offline backends).

        Raises:
            BackendUnavailable: The backend cannot run here.
            BackendError: The backend ran but failed.
        """
        self._require_available()
        start = time.perf_counter()
        try:
            boxes: list[dict[str, Any]] = []
            for modality in request.modalities():
                if getattr(request, "cancelled", False):
                    raise BackendError(f"{self.name} was cancelled (the inspection gave up waiting)")
                raw = self._detect_modality(request, modality)
                width, height = request.image_size(modality)
                boxes += self._postprocess(raw, modality, width, height)
            return boxes
        except InspectorError:
            raise
        except Exception as exc:
            log.debug("%s failed", self.name, exc_info=True)
            raise BackendError(f"{self.name} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            self.last_latency_ms = (time.perf_counter() - start) * 1000.0

    def verdict(self, boxes: list[dict[str, Any]], modalities: Sequence[str]) -> tuple[str, float]:
        """``(verdict, confidence)`` of ``boxes`` against this backend's :attr:`verdict_threshold`."""
        return verdict_from_boxes(boxes, self.verdict_threshold, modalities)

    def detect_image(
        self, image: np.ndarray, modality: str, prompts: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Boxes on one image (CT float ``HxW`` or RGB ``uint8``) with optional custom prompts."""
        self._require_available()
        rgb = to_rgb8(image)
        try:
            raw = self._predict(rgb, list(prompts or self.prompts[modality]))
        except InspectorError:
            raise
        except Exception as exc:
            log.debug("%s failed", self.name, exc_info=True)
            raise BackendError(f"{self.name} failed: {type(exc).__name__}: {exc}") from exc
        return self._postprocess(raw, modality, rgb.shape[1], rgb.shape[0])

    def _require_available(self) -> None:
        status = self.availability()
        if not status.ok:
            raise BackendUnavailable(status.reason)

    def _postprocess(
        self, detections: list[Detection], modality: str, width: int, height: int
    ) -> list[dict[str, Any]]:
        kept = [d for d in detections if float(d.score) >= self.box_threshold]
        kept = nms(kept, self.nms_iou)[: self.max_boxes]
        boxes = []
        for det in kept:
            box = xyxy_to_box(det.xyxy, width, height)
            if box is None:
                continue
            out = {
                "label": map_label(det.label),
                "score": round(float(det.score), 4),
                "box": box,
                "modality": modality,
            }
            if self.uses_prompts:
                out["prompt"] = det.label
            if det.source:
                out["source"] = det.source
            boxes.append(out)
        return boxes

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
