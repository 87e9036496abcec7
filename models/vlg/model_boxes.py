"""Offline grounding: boxes from the inspector's own CT attention and RGB error map.

Always available; no text prompts are involved. Boxes come from the evidence's CT boxes
(the localisation head or the attention map) and RGB boxes when the pipeline gives them,
else from the hot regions of the attention / error map. Each box says where it came from
(``source``: ``ct_attention`` or ``rgb_error_map``), so it is never mistaken for a
vision-language grounding model's box.
"""

from __future__ import annotations

from typing import Any

from models.vlg.base import Availability, Detection, VLGBackend
from models.vlg.registry import register_vlg
from models.vlm.base import FindingRequest
from models.vlm.evidence import ct_defect_type, map_regions

SOURCES = {"ct": "ct_attention", "rgb": "rgb_error_map"}


@register_vlg("model_boxes", priority=10)  # the offline default, offered first
class ModelBoxes(VLGBackend):
    """Boxes from the inspector's evidence (offline, always available).

    Args:
        map_threshold: Relative level (0..1 of the map max) that makes a region "hot".
        only_defective: Give boxes only for sides the inspector judged defective.
        **kwargs: :class:`VLGBackend` settings (``box_threshold`` defaults to 0 here).
    """

    label = "Model boxes (CT attention / RGB error map)"
    is_model = False
    uses_prompts = False
    default_verdict_threshold = 0.01  # it boxes only the sides the inspector flagged

    def __init__(self, map_threshold: float = 0.5, only_defective: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("box_threshold", 0.0)
        super().__init__(**kwargs)
        self.map_threshold = float(map_threshold)
        self.only_defective = bool(only_defective)

    def _check_availability(self) -> Availability:
        return Availability(True)

    def _detect_modality(self, request: FindingRequest, modality: str) -> list[Detection]:
        side = request.evidence.get(modality) or {}
        if self.only_defective and side and not side.get("is_defect"):
            return []
        label = ct_defect_type(side.get("label")) if modality == "ct" else "defect"
        label = "defect" if label == "none" else label
        source = SOURCES[modality]
        evidence_boxes = side.get("boxes") or []
        if evidence_boxes:
            return [
                Detection(
                    label=str(b.get("label") or label),
                    score=float(b.get("score", 1.0)),
                    xyxy=_corners(b["box"]),
                    source=b.get("source", source),
                )
                for b in evidence_boxes
            ]
        emap = request.explanation_map(modality)
        if emap is None:
            return []
        regions = map_regions(
            emap, request.image_size(modality), self.map_threshold, max_regions=self.max_boxes
        )
        return [Detection(label, r.score, r.xyxy, source) for r in regions]


def _corners(box: list[float]) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in box)
    return (x, y, x + w, y + h)
