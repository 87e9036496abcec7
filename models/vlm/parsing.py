"""Tolerant parsing of a VLM answer into a raw finding with pixel boxes.

Local models wrap JSON in prose or code fences, write ``"moderate"`` for a severity or
``"yes"`` for a boolean, and answer boxes on a 0-1000 grid; all of that is normalised here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from models.vlm.base import SEVERITIES, FindingRequest
from models.vlm.prompts import BOX_XYXY_1000, BOX_YXYX_1000

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)

_SEVERITY_WORDS: dict[str, str] = {
    "minor": "low",
    "none": "low",
    "negligible": "low",
    "moderate": "medium",
    "medium": "medium",
    "major": "high",
    "severe": "high",
    "serious": "high",
    "fatal": "critical",
    "낮음": "low",
    "경미": "low",
    "보통": "medium",
    "중간": "medium",
    "높음": "high",
    "심각": "high",
    "치명": "critical",
    "위험": "critical",
}


def extract_json(text: str) -> dict[str, Any]:
    """Return the first JSON object in ``text`` (bare, in a code fence, or inside prose).

    Raises:
        ValueError: No JSON object could be decoded.
    """
    text = (text or "").strip()
    candidates = [text, *(m.strip() for m in _FENCE.findall(text))]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return value[0]
    decoder = json.JSONDecoder()
    for start in (i for i, ch in enumerate(text) if ch == "{"):
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("the answer contains no JSON object")


def parse_bool(value: Any) -> bool:
    """Read a model's boolean (``true``, ``"yes"``, ``"불량"``, 1, ...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value).strip().lower()
    return text in {"true", "yes", "y", "1", "defect", "defective", "예", "네", "있음", "불량", "결함"}


def parse_severity(value: Any) -> str:
    """Map a severity word (English or Korean) to one of :data:`SEVERITIES`."""
    text = str(value or "").strip().lower()
    if text in SEVERITIES:
        return text
    for word, severity in _SEVERITY_WORDS.items():
        if word in text:
            return severity
    for severity in SEVERITIES:
        if severity in text:
            return severity
    raise ValueError(f"unknown severity {value!r}")


def box_to_pixels(coords: Any, box_format: str, width: int, height: int) -> list[float]:
    """Convert a 0-1000 grid box to ``[x, y, w, h]`` pixels of a ``width`` x ``height`` image.

    Args:
        coords: Four numbers in ``box_format`` order.
        box_format: :data:`BOX_YXYX_1000` (Gemini) or :data:`BOX_XYXY_1000` (Qwen3-VL).
        width: Image width in pixels.
        height: Image height in pixels.
    """
    values = [float(v) for v in coords]
    if len(values) != 4:
        raise ValueError(f"a box needs 4 numbers, got {coords!r}")
    if box_format == BOX_YXYX_1000:
        y0, x0, y1, x1 = values
    elif box_format == BOX_XYXY_1000:
        x0, y0, x1, y1 = values
    else:
        raise ValueError(f"unknown box format {box_format!r}")
    x0, x1 = sorted((min(max(x0, 0.0), 1000.0), min(max(x1, 0.0), 1000.0)))
    y0, y1 = sorted((min(max(y0, 0.0), 1000.0), min(max(y1, 0.0), 1000.0)))
    sx, sy = width / 1000.0, height / 1000.0
    return [round(x0 * sx, 1), round(y0 * sy, 1), round((x1 - x0) * sx, 1), round((y1 - y0) * sy, 1)]


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return "" if value is None else str(value)


def normalise_finding(raw: dict[str, Any], request: FindingRequest, box_format: str) -> dict[str, Any]:
    """Coerce a model's answer into the finding fields, with boxes in input-image pixels.

    Boxes with an ``image`` the request does not hold go to the only image present (or CT);
    malformed boxes are dropped rather than failing the whole finding.
    """
    present = request.modalities()
    boxes = []
    for item in raw.get("boxes") or []:
        if not isinstance(item, dict):
            continue
        coords = item.get("box_2d", item.get("bbox_2d", item.get("box")))
        modality = str(item.get("image", "")).lower()
        if modality not in present:
            if not present:
                continue
            modality = present[0]
        try:
            box = box_to_pixels(coords, box_format, *request.image_size(modality))
        except (TypeError, ValueError):
            continue
        if box[2] < 1 or box[3] < 1:
            continue
        label = str(item.get("label") or raw.get("defect_type") or "defect")
        boxes.append(
            {"label": label, "score": float(item.get("score", 1.0)), "box": box, "modality": modality}
        )
    return {
        "defect_detected": parse_bool(raw.get("defect_detected", False)),
        "defect_type": _text(raw.get("defect_type")).strip().lower().replace(" ", "_") or "none",
        "location": _text(raw.get("location")),
        "boxes": boxes,
        "severity": parse_severity(raw.get("severity")),
        "probable_cause": _text(raw.get("probable_cause")),
        "recommended_action": _text(raw.get("recommended_action")),
        "summary": _text(raw.get("summary")),
        "verdict": raw.get("verdict"),
        "confidence": raw.get("confidence"),
        "ct_class": raw.get("ct_class") if "ct" in present else None,
        "ct_class_confidence": raw.get("ct_class_confidence"),
        "rgb_class": raw.get("rgb_class") if "rgb" in present else None,
        "rgb_class_confidence": raw.get("rgb_class_confidence"),
    }


def parse_answer(text: str, request: FindingRequest, box_format: str) -> dict[str, Any]:
    """:func:`extract_json` then :func:`normalise_finding` (the whole path for a text answer)."""
    return normalise_finding(extract_json(text), request, box_format)
