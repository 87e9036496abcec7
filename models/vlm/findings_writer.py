"""Offline findings writer: a finding composed from the inspector's own evidence (not a VLM).

Always available. It reads the CT class and probabilities, the RGB anomaly score against its
threshold, where the attention / error-map peak lies ("upper-left, near the can wall"), the
size of the hot area, and turns them into a finding with a severity rule and likely causes
from a small curated table (:mod:`models.vlm.causes`). The summary says it was written from
the models' evidence, so it is never mistaken for a vision-language model's reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.vlm.base import SEVERITIES, Availability, FindingRequest, VLMBackend
from models.vlm.causes import ACTIONS, BASE_SEVERITY, CAUSES, NAMES
from models.vlm.evidence import Region, ct_defect_type, edge_words, map_regions, position_words
from models.vlm.registry import register_vlm
from models.vlm.verdicts import verdict_from_sides

VERDICT_NAMES: dict[str, dict[str, str]] = {
    "normal": {"en": "normal", "ko": "정상"},
    "internal_defect": {"en": "internal defect", "ko": "내부 불량"},
    "external_defect": {"en": "external defect", "ko": "외부 불량"},
    "composite_defect": {"en": "composite defect (internal and external)", "ko": "복합 불량 (내부 및 외부)"},
}

_T = {
    "en": {
        "prefix": "Written from the inspector's own evidence (no vision-language model).",
        "verdict": "Verdict: {verdict} (confidence {confidence:.0%}).",
        "ct": "CT: the classifier says {label} with probability {p:.2f}",
        "ct_where": ", attention peak {where}",
        "rgb": "RGB: anomaly score {score:.4g} is {ratio:.1f}x the threshold {threshold:.4g}",
        "rgb_normal": "RGB: anomaly score {score:.4g} is below the threshold {threshold:.4g}",
        "rgb_where": ", error peak {where}",
        "shape": " (elongated mark, which suggests a scratch)",
        "area": "about {area:.1f}% of the {what}",
        "diffuse": "diffuse over about {area:.0f}% of the {what}, too wide to size the defect",
        "slice": "slice",
        "photo": "photo",
        "unknown_where": "location not available",
        "no_evidence": "No inspector evidence was given, so no defect can be reported.",
        "overruled": "One model flagged a defect that the combined verdict did not confirm.",
        "normal": "No defect found by the {models}.",
        "ct_model": "CT classifier",
        "rgb_model": "RGB anomaly model",
        "and": " or the ",
        "sep": "; ",
    },
    "ko": {
        "prefix": "검사 모델의 근거로 작성한 소견입니다 (VLM 아님).",
        "verdict": "판정: {verdict} (신뢰도 {confidence:.0%}).",
        "ct": "CT: 분류기 판정 {label}, 확률 {p:.2f}",
        "ct_where": ", 어텐션 최댓값 {where}",
        "rgb": "RGB: 이상 점수 {score:.4g}, 임계값 {threshold:.4g}의 {ratio:.1f}배",
        "rgb_normal": "RGB: 이상 점수 {score:.4g}, 임계값 {threshold:.4g} 미만",
        "rgb_where": ", 오류 최댓값 {where}",
        "shape": " (길쭉한 형태로 스크래치로 추정)",
        "area": "{what}의 약 {area:.1f}%",
        "diffuse": "{what}의 약 {area:.0f}%에 넓게 퍼져 결함 크기를 판단하기 어려움",
        "slice": "단면",
        "photo": "사진",
        "unknown_where": "위치 정보 없음",
        "no_evidence": "검사 모델 근거가 없어 결함을 보고할 수 없습니다.",
        "overruled": "한 모델이 결함을 표시했으나 종합 판정에서 확인되지 않았습니다.",
        "normal": "{models}에서 결함을 찾지 못했습니다.",
        "ct_model": "CT 분류기",
        "rgb_model": "RGB 이상 탐지 모델",
        "and": "와 ",
        "sep": "; ",
    },
}

# an RGB hot region this elongated (long side / short side) is called a scratch
SCRATCH_ELONGATION = 4.0
# a hot area above this fraction of the image raises the severity one level ...
LARGE_AREA_FRACTION = 0.05
# ... unless it is above this one: such a map is too diffuse to measure a defect with
DIFFUSE_AREA_FRACTION = 0.25


@dataclass
class _Side:
    modality: str
    defect_type: str
    words: str
    boxes: list[dict[str, Any]] = field(default_factory=list)
    area_fraction: float = 0.0


def severity_rule(defect_types: list[str], area_fraction: float, composite: bool) -> str:
    """Severity from the defect types, the hot-area size and whether both sides are defective.

    Each type has a base level (:data:`models.vlm.causes.BASE_SEVERITY`: porosity and damage
    high, scratch and resin overflow medium, pollution low); the worst type counts. A hot
    area of 5% to 25% of the image raises it one level (a wider map is too diffuse to size a
    defect); a composite (internal + external) defect raises it one level and is at least
    ``high``. No defect is ``low``.
    """
    if not defect_types:
        return "low"
    level = max(SEVERITIES.index(BASE_SEVERITY.get(t, "medium")) for t in defect_types)
    if LARGE_AREA_FRACTION <= area_fraction <= DIFFUSE_AREA_FRACTION:
        level += 1
    if composite:
        level = max(level + 1, SEVERITIES.index("high"))
    return SEVERITIES[min(level, len(SEVERITIES) - 1)]


def _entry(table: dict[str, dict[str, str]], defect_type: str, lang: str) -> str:
    """Look up a curated text, falling back to the generic ``defect`` entry."""
    return (table.get(defect_type) or table["defect"])[lang]


def _box_regions(boxes: list[dict[str, Any]], width: int, height: int) -> list[Region]:
    regions = []
    for b in boxes:
        x, y, w, h = (float(v) for v in b["box"])
        regions.append(
            Region(
                xyxy=(x, y, x + w, y + h),
                peak=(x + w / 2, y + h / 2),
                score=float(b.get("score", 1.0)),
                area_fraction=w * h / max(1, width * height),
                elongation=max(w, h) / max(1.0, min(w, h)),
            )
        )
    return regions


@register_vlm("findings_writer", priority=10)  # the offline default, offered first
class FindingsWriter(VLMBackend):
    """Compose the finding from the inspector's evidence (offline, deterministic, always available).

    Args:
        map_threshold: Relative level (0..1 of the map max) that makes a region "hot".
        max_boxes: At most this many boxes per modality.
    """

    label = "Findings writer (from the inspector's evidence)"
    is_model = False

    def __init__(self, map_threshold: float = 0.5, max_boxes: int = 3, **cfg: Any) -> None:
        super().__init__(**cfg)
        self.map_threshold = float(map_threshold)
        self.max_boxes = int(max_boxes)

    def _check_availability(self) -> Availability:
        return Availability(True)

    def _side(self, request: FindingRequest, modality: str, defect_type: str) -> _Side:
        """Locate one defective side from its map (or, failing that, the evidence boxes)."""
        lang = request.lang
        t = _T[lang]
        side = _Side(modality, defect_type, t["unknown_where"])
        evidence_boxes = list((request.evidence.get(modality) or {}).get("boxes") or [])
        if request.image(modality) is None:
            return side
        width, height = request.image_size(modality)
        emap = request.explanation_map(modality)
        regions = map_regions(emap, (width, height), self.map_threshold) if emap is not None else []
        source = "ct_attention" if modality == "ct" else "rgb_error_map"
        if not regions and evidence_boxes:
            regions = _box_regions(evidence_boxes, width, height)
        if not regions:
            return side
        top = regions[0]
        if modality == "rgb" and defect_type == "external_anomaly" and top.elongation >= SCRATCH_ELONGATION:
            side.defect_type = "scratch"
        side.area_fraction = sum(r.area_fraction for r in regions)
        where = position_words(*top.peak, width, height, lang)
        edge = edge_words(request.image(modality), *top.peak, modality, request.battery_type, lang)
        size = "diffuse" if side.area_fraction > DIFFUSE_AREA_FRACTION else "area"
        area = t[size].format(area=100 * side.area_fraction, what=t["slice" if modality == "ct" else "photo"])
        side.words = ", ".join(w for w in (where, edge, area) if w)
        if evidence_boxes:
            side.boxes = [
                {**b, "label": side.defect_type, "modality": modality, "source": b.get("source", source)}
                for b in evidence_boxes[: self.max_boxes]
            ]
        else:
            side.boxes = [
                {
                    "label": side.defect_type,
                    "score": round(r.score, 4),
                    "box": [r.xyxy[0], r.xyxy[1], r.xyxy[2] - r.xyxy[0], r.xyxy[3] - r.xyxy[1]],
                    "modality": modality,
                    "source": source,
                }
                for r in regions[: self.max_boxes]
            ]
        return side

    def _generate(self, request: FindingRequest) -> dict[str, Any]:
        lang = request.lang
        t = _T[lang]
        ev = request.evidence
        ct, rgb = ev.get("ct") or {}, ev.get("rgb") or {}
        sides: list[_Side] = []
        notes: list[str] = []
        if ct.get("label"):
            p = (ct.get("probabilities") or {}).get(ct["label"], ct.get("confidence") or 0.0)
            note = t["ct"].format(label=ct["label"], p=float(p))
            if ct.get("is_defect"):
                kind = ct_defect_type(ct["label"])
                side = self._side(request, "ct", "defect" if kind == "none" else kind)
                sides.append(side)
                note += t["ct_where"].format(where=side.words)
            notes.append(note)
        if rgb.get("score") is not None and rgb.get("threshold") is not None:
            score, threshold = float(rgb["score"]), float(rgb["threshold"])
            if rgb.get("is_defect"):
                side = self._side(request, "rgb", "external_anomaly")
                sides.append(side)
                ratio = score / threshold if threshold > 0 else float("inf")
                note = t["rgb"].format(score=score, threshold=threshold, ratio=ratio)
                note += t["rgb_where"].format(where=side.words)
                if side.defect_type == "scratch":
                    note += t["shape"]
            else:
                note = t["rgb_normal"].format(score=score, threshold=threshold)
            notes.append(note)

        verdict = ev.get("verdict")
        overruled = verdict == "normal" and bool(sides)
        if overruled:  # e.g. the AND policy did not confirm one side: the verdict decides
            sides = []
        types = [s.defect_type for s in sides]
        head = [t["prefix"]]
        if verdict in VERDICT_NAMES:
            head.append(
                t["verdict"].format(
                    verdict=VERDICT_NAMES[verdict][lang], confidence=float(ev.get("confidence") or 0.0)
                )
            )
        if not notes:
            head.append(t["no_evidence"])
        elif overruled:
            head.append(t["overruled"])
        elif not sides:
            present = [t[f"{m}_model"] for m, side in (("ct", ct), ("rgb", rgb)) if side]
            head.append(t["normal"].format(models=t["and"].join(present)))
        summary = " ".join(head + [n + "." for n in notes])
        composite = {s.modality for s in sides} == {"ct", "rgb"}
        unique = list(dict.fromkeys(types))
        flagged = {s.modality for s in sides}
        if verdict in VERDICT_NAMES:
            confidence = float(ev.get("confidence") or 0.0)
        else:  # no combined verdict: the sides decide; nothing to judge from means no confidence
            verdict = verdict_from_sides("ct" in flagged, "rgb" in flagged)
            confidence = float(max([float(s.get("confidence") or 0.0) for s in (ct, rgb) if s] or [0.0]))
        rgb_class = None
        if rgb.get("score") is not None:
            rgb_side = next((s for s in sides if s.modality == "rgb"), None)
            rgb_class = "normal" if not rgb.get("is_defect") else (
                "scratch" if rgb_side is not None and rgb_side.defect_type == "scratch" else None
            )
        ct_label = ct.get("label")
        return {
            "verdict": verdict,
            "confidence": confidence,
            "ct_class": ct_label,
            "ct_class_confidence": (ct.get("probabilities") or {}).get(ct_label, ct.get("confidence")),
            "rgb_class": rgb_class,
            "rgb_class_confidence": rgb.get("confidence") if rgb_class else None,
            "defect_detected": bool(sides),
            "defect_type": ", ".join(unique) or "none",
            "location": t["sep"].join(f"{s.modality.upper()}: {s.words}" for s in sides),
            "boxes": [b for s in sides for b in s.boxes],
            "severity": severity_rule(types, max((s.area_fraction for s in sides), default=0.0), composite),
            "probable_cause": t["sep"].join(
                f"{_entry(NAMES, k, lang)}: {_entry(CAUSES, k, lang)}" for k in unique
            ),
            "recommended_action": " ".join(_entry(ACTIONS, k, lang) for k in unique) or ACTIONS["none"][lang],
            "summary": summary,
        }
