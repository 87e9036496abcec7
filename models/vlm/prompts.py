"""The VLM-AD style prompt (seed 004 §4, seed 002 §4): the inspector's evidence in, a finding out.

One prompt serves every VLM backend; only the box convention differs (Gemini answers
``[ymin, xmin, ymax, xmax]``, Qwen3-VL ``[x1, y1, x2, y2]``, both on a 0-1000 grid).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.vlm.base import SEVERITIES, FindingRequest
from models.vlm.evidence import edge_words, map_regions, position_words
from models.vlm.verdicts import CT_CLASSES, RGB_CLASSES, VERDICTS

# Box conventions a backend may declare (see models.vlm.parsing.box_to_pixels).
BOX_YXYX_1000 = "yxyx_1000"
BOX_XYXY_1000 = "xyxy_1000"

DEFECT_TYPES: tuple[str, ...] = (
    "none",
    "porosity",
    "void",
    "crack",
    "resin_overflow",
    "pollution",
    "scratch",
    "damage",
    "other",
)

# The answer the model is asked for (JSON Schema; Gemini enforces it as its response schema).
FINDING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "defect_detected": {"type": "boolean"},
        "defect_type": {"type": "string", "description": "one of: " + ", ".join(DEFECT_TYPES)},
        "location": {"type": "string"},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "probable_cause": {"type": "string"},
        "recommended_action": {"type": "string"},
        "summary": {"type": "string"},
        "verdict": {"type": "string", "enum": list(VERDICTS)},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "ct_class": {"type": "string", "enum": [*CT_CLASSES, "none"]},
        "ct_class_confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "rgb_class": {"type": "string", "enum": [*RGB_CLASSES, "none"]},
        "rgb_class_confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "boxes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "image": {"type": "string", "enum": ["ct", "rgb"]},
                    "box_2d": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4},
                },
                "required": ["label", "image", "box_2d"],
            },
        },
    },
    "required": [
        "defect_detected",
        "defect_type",
        "location",
        "severity",
        "probable_cause",
        "recommended_action",
        "summary",
        "verdict",
        "confidence",
    ],
}

SYSTEM_PROMPT = {
    "en": "You are an expert quality inspector of lithium-ion battery cells and modules. "
    "You read CT slices (inside) and RGB photos (outside) and write precise, sober findings.",
    "ko": "당신은 리튬이온 배터리 셀과 모듈의 품질 검사 전문가입니다. "
    "CT 단면(내부)과 RGB 사진(외관)을 읽고 정확하고 절제된 소견을 작성합니다.",
}

_TEXT = {
    "en": {
        "intro": "Analyse this battery for defects.",
        "product": "Product: lithium-ion battery {battery_type}{axis}.",
        "axis": ", CT slice along the {axis} axis",
        "images": "Images, in order:",
        "ct_image": "CT slice (inside of the battery; bright = dense material)",
        "ct_overlay": "CT attention overlay (where the CT classifier looked; red = strong)",
        "rgb_image": "RGB photo (outside of the battery)",
        "rgb_overlay": "RGB reconstruction-error overlay (red = unlike normal batteries)",
        "evidence": "Evidence from the inspector's own models:",
        "no_evidence": "No detector evidence is given: judge from the images alone.",
        "ct_class": "- CT classifier: {label} (confidence {confidence:.2f}); probabilities: {probs}",
        "ct_peak": "- CT attention peak: {where}; hot area about {area:.1f}% of the slice",
        "rgb_score": "- RGB autoencoder: anomaly score {score:.4g} vs threshold {threshold:.4g} -> {state}",
        "rgb_peak": "- RGB error-map peak: {where}; hot area about {area:.1f}% of the photo",
        "anomalous": "anomalous",
        "normal": "normal",
        "verdict": "- Combined verdict: {verdict} (confidence {confidence:.2f})",
        "expected": "Expected defects: CT - porosity (pores, voids, bubbles), crack, resin overflow "
        "(modules); RGB - pollution (contamination, stain), scratch, damage (dent).",
        "task": "Task: 1) defect type and location, 2) severity ({severities}), 3) probable root "
        "cause, 4) recommended action. The detectors are validated; use the images to confirm or "
        "question them and say so in the summary if you disagree.",
        "task_blind": "Task: 1) defect type and location, 2) severity ({severities}), 3) probable root "
        "cause, 4) recommended action. Judge from the images alone.",
        "boxes": 'For each defect you can see, add a box with "label", "image" ("ct" or "rgb") '
        'and "box_2d" as {order} on a 0-1000 grid of the original image (not the overlay).',
        "verdict_task": "Also give: verdict ({verdicts}: internal = inside, seen on the CT slice; "
        "external = outside, seen on the photo; composite = both) with confidence 0-1; ct_class "
        "({ct_classes}, or none without a CT slice) and rgb_class ({rgb_classes}, or none without a "
        "photo), each with a confidence 0-1.",
        "language": "Write every text field in English.",
        "answer": "Answer with one JSON object only, with the keys: {keys}.",
    },
    "ko": {
        "intro": "이 배터리의 결함을 분석하세요.",
        "product": "제품: 리튬이온 배터리 {battery_type}{axis}.",
        "axis": ", CT 단면 축 {axis}",
        "images": "이미지 순서:",
        "ct_image": "CT 단면 (배터리 내부; 밝을수록 밀도가 높음)",
        "ct_overlay": "CT 어텐션 오버레이 (CT 분류기가 주목한 곳; 빨강 = 강함)",
        "rgb_image": "RGB 사진 (배터리 외관)",
        "rgb_overlay": "RGB 재구성 오류 오버레이 (빨강 = 정상 배터리와 다름)",
        "evidence": "검사 모델의 근거:",
        "no_evidence": "검출기 근거가 없습니다: 이미지만 보고 판단하세요.",
        "ct_class": "- CT 분류기: {label} (신뢰도 {confidence:.2f}); 확률: {probs}",
        "ct_peak": "- CT 어텐션 최댓값 위치: {where}; 주목 영역은 단면의 약 {area:.1f}%",
        "rgb_score": "- RGB 오토인코더: 이상 점수 {score:.4g} / 임계값 {threshold:.4g} -> {state}",
        "rgb_peak": "- RGB 오류 맵 최댓값 위치: {where}; 이상 영역은 사진의 약 {area:.1f}%",
        "anomalous": "이상",
        "normal": "정상",
        "verdict": "- 종합 판정: {verdict} (신뢰도 {confidence:.2f})",
        "expected": "예상 결함: CT - 기공(porosity: 기공, 공극, 기포), 크랙, 레진 넘침(모듈); "
        "RGB - 오염(pollution: 오염, 얼룩), 스크래치(scratch), 손상(damage: 찍힘).",
        "task": "과제: 1) 결함 유형과 위치, 2) 심각도 ({severities}), 3) 추정 원인, 4) 권장 조치. "
        "검출기는 검증된 모델입니다. 이미지로 확인하거나 의문을 제기하고, 동의하지 않으면 요약에 밝히세요.",
        "task_blind": "과제: 1) 결함 유형과 위치, 2) 심각도 ({severities}), 3) 추정 원인, 4) 권장 조치. "
        "이미지만 보고 판단하세요.",
        "boxes": '보이는 결함마다 "label", "image" ("ct" 또는 "rgb"), "box_2d" ({order}, 원본 '
        "이미지 기준 0-1000 격자; 오버레이 아님)를 가진 박스를 추가하세요.",
        "verdict_task": "다음도 답하세요: verdict ({verdicts}: internal = 내부, CT 단면에서 보임; "
        "external = 외관, 사진에서 보임; composite = 둘 다)와 신뢰도(confidence, 0-1); ct_class "
        "({ct_classes}, CT 단면이 없으면 none)와 rgb_class ({rgb_classes}, 사진이 없으면 none), 각각 신뢰도 0-1.",
        "language": "모든 텍스트 필드는 한국어로 작성하세요. defect_type과 severity 값만 영어 키워드를 쓰세요.",
        "answer": "JSON 객체 하나로만 답하세요. 키: {keys}.",
    },
}

_BATTERY_TYPES = {"en": {"cell": "cell", "module": "module"}, "ko": {"cell": "셀", "module": "모듈"}}

_ORDER = {BOX_YXYX_1000: "[ymin, xmin, ymax, xmax]", BOX_XYXY_1000: "[x1, y1, x2, y2]"}


def prompt_images(request: FindingRequest) -> list[tuple[str, np.ndarray]]:
    """The images sent to the model, in prompt order: ``[(key, uint8 HxWx3), ...]``.

    Keys are ``ct_image``, ``ct_overlay``, ``rgb_image``, ``rgb_overlay``; overlays are sent
    only with their image.
    """
    images = []
    for modality in request.modalities():
        images.append((f"{modality}_image", request.image_rgb8(modality)))
        overlay = request.overlay(modality)
        if overlay is not None:
            images.append((f"{modality}_overlay", np.asarray(overlay, dtype=np.uint8)))
    return images


def _peak_words(request: FindingRequest, modality: str, lang: str) -> tuple[str, float] | None:
    emap = request.explanation_map(modality)
    if emap is None or request.image(modality) is None:
        return None
    width, height = request.image_size(modality)
    regions = map_regions(emap, (width, height))
    if not regions:
        return None
    top = regions[0]
    where = position_words(*top.peak, width, height, lang)
    edge = edge_words(request.image(modality), *top.peak, modality, request.battery_type, lang)
    return (f"{where}, {edge}" if edge else where), 100.0 * sum(r.area_fraction for r in regions)


def evidence_lines(request: FindingRequest, lang: str | None = None) -> list[str]:
    """The inspector's evidence as prompt lines (class, probabilities, score vs threshold, peaks)."""
    lang = lang or request.lang
    text = _TEXT[lang]
    lines: list[str] = []
    ct = request.evidence.get("ct") or {}
    if ct.get("label"):
        probs = ct.get("probabilities") or {}
        top = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)[:3]
        lines.append(
            text["ct_class"].format(
                label=ct["label"],
                confidence=float(ct.get("confidence") or 0.0),
                probs=", ".join(f"{k} {float(v):.2f}" for k, v in top) or "-",
            )
        )
    peak = _peak_words(request, "ct", lang) if ct else None
    if peak:
        lines.append(text["ct_peak"].format(where=peak[0], area=peak[1]))
    rgb = request.evidence.get("rgb") or {}
    if rgb.get("score") is not None and rgb.get("threshold") is not None:
        lines.append(
            text["rgb_score"].format(
                score=float(rgb["score"]),
                threshold=float(rgb["threshold"]),
                state=text["anomalous"] if rgb.get("is_defect") else text["normal"],
            )
        )
    peak = _peak_words(request, "rgb", lang) if rgb else None
    if peak:
        lines.append(text["rgb_peak"].format(where=peak[0], area=peak[1]))
    if request.evidence.get("verdict"):
        lines.append(
            text["verdict"].format(
                verdict=request.evidence["verdict"],
                confidence=float(request.evidence.get("confidence") or 0.0),
            )
        )
    return lines


def build_prompt(request: FindingRequest, box_format: str = BOX_YXYX_1000) -> str:
    """The user prompt for one inspection (images are sent alongside, in :func:`prompt_images` order).

    Args:
        request: Images, maps and evidence; ``request.lang`` picks Korean or English.
        box_format: :data:`BOX_YXYX_1000` (Gemini) or :data:`BOX_XYXY_1000` (Qwen3-VL).
    """
    text = _TEXT[request.lang]
    battery_type = _BATTERY_TYPES[request.lang].get(request.battery_type or "", "")
    axis = text["axis"].format(axis=request.axis) if request.axis else ""
    lines = [text["intro"], " ".join(text["product"].format(battery_type=battery_type, axis=axis).split())]
    lines.append(text["images"])
    for index, (key, _) in enumerate(prompt_images(request), start=1):
        lines.append(f"  {index}. {text[key]}")
    evidence = evidence_lines(request)
    lines += [text["evidence"], *evidence] if evidence else [text["no_evidence"]]
    lines += [
        text["expected"],
        text["task" if evidence else "task_blind"].format(severities="|".join(SEVERITIES)),
        text["boxes"].format(order=_ORDER[box_format]),
        text["verdict_task"].format(
            verdicts="|".join(VERDICTS), ct_classes="|".join(CT_CLASSES), rgb_classes="|".join(RGB_CLASSES)
        ),
        text["language"],
        text["answer"].format(keys=", ".join(FINDING_SCHEMA["properties"])),
    ]
    return "\n".join(lines)
