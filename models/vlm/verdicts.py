"""Verdicts and zero-shot classes of a finding, and the one table of defect information.

Every system (the inspector, a VLM, a VLG) ends in one of the four verdicts; a VLM also names
a zero-shot CT class and RGB class. :data:`DEFECT_INFO` is the single table the operator's
description, severity colour, probable cause and action come from, whichever VLM is selected.
"""

from __future__ import annotations

from typing import Any

from models.vlm.causes import ACTIONS, CAUSES, NAMES

VERDICTS: tuple[str, ...] = ("normal", "internal_defect", "external_defect", "composite_defect")
CT_CLASSES: tuple[str, ...] = (
    "cell_normal",
    "cell_porosity",
    "module_normal",
    "module_porosity",
    "module_resin_overflow",
)
RGB_CLASSES: tuple[str, ...] = ("normal", "pollution", "scratch", "damage")

# defect types a model may write, by the side of the battery they belong to
CT_TYPES = frozenset({"porosity", "void", "crack", "resin_overflow", "pore", "bubble"})
RGB_TYPES = frozenset({"pollution", "scratch", "damage", "dent", "stain", "contamination", "external_anomaly"})

_VERDICT_WORDS = {
    "internal": "internal_defect",
    "external": "external_defect",
    "composite": "composite_defect",
    "both": "composite_defect",
    "ok": "normal",
    "good": "normal",
    "pass": "normal",
    "내부": "internal_defect",
    "외부": "external_defect",
    "복합": "composite_defect",
    "정상": "normal",
}


def verdict_from_sides(ct_defect: bool, rgb_defect: bool) -> str:
    """``normal``, ``internal_defect`` (CT), ``external_defect`` (RGB) or ``composite_defect``."""
    return VERDICTS[int(bool(ct_defect)) + 2 * int(bool(rgb_defect))]


def verdict_sides(verdict: str) -> tuple[bool, bool]:
    """``(ct_defect, rgb_defect)`` of a verdict (the inverse of :func:`verdict_from_sides`)."""
    index = VERDICTS.index(verdict)
    return bool(index & 1), bool(index & 2)


def parse_verdict(value: Any) -> str | None:
    """A verdict from a model's word (``"internal defect"``, ``"복합 불량"``), or ``None``."""
    text = str(value or "").strip().lower().replace(" ", "_").replace("-", "_")
    if text in VERDICTS:
        return text
    for word, verdict in _VERDICT_WORDS.items():
        if word in text:
            return verdict
    return None


def parse_class(value: Any, classes: tuple[str, ...]) -> str | None:
    """One of ``classes`` from a model's word, or ``None`` when it names none of them."""
    text = str(value or "").strip().lower().replace(" ", "_").replace("-", "_")
    if not text or text in ("none", "null", "n/a"):
        return None
    if text in classes:
        return text
    matches = [c for c in classes if c.endswith(text) or text.endswith(c)]
    return matches[0] if len(matches) == 1 else None


def clip01(value: Any, default: float | None = None) -> float | None:
    """``value`` as a float in ``[0, 1]`` (percentages are divided by 100); ``default`` if unusable."""
    try:
        number = float(str(value).strip().rstrip("%")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return default
    if number != number:  # NaN
        return default
    if 1.0 < number <= 100.0:
        number /= 100.0
    return min(1.0, max(0.0, number))


def derive_verdict(
    defect_detected: bool,
    defect_type: str,
    boxes: list[dict[str, Any]],
    ct_class: str | None,
    rgb_class: str | None,
    modalities: list[str],
) -> str:
    """The verdict a finding implies when the model did not give a usable one.

    A side is defective when its zero-shot class is a defect, when a box lies on its image, or
    when a written defect type belongs to it; a defect with no side named goes to the only
    image present (both images: composite).
    """
    if not defect_detected:
        return "normal"
    types = {t.strip() for t in str(defect_type or "").replace(";", ",").split(",")}
    ct = bool(ct_class and not ct_class.endswith("normal")) or any(b.get("modality") == "ct" for b in boxes)
    rgb = bool(rgb_class and rgb_class != "normal") or any(b.get("modality") == "rgb" for b in boxes)
    ct = ct or bool(types & CT_TYPES)
    rgb = rgb or bool(types & RGB_TYPES)
    if not (ct or rgb):
        ct, rgb = ("ct" in modalities or not modalities), ("rgb" in modalities)
    return verdict_from_sides(ct, rgb)


# -- the one table of what the operator reads ------------------------------------------------
#: key (a verdict, a CT class or an RGB class) -> defect type of the curated cause/action table
_KEY_TYPES: dict[str, tuple[str, ...]] = {
    "normal": ("none",),
    "internal_defect": ("porosity",),
    "external_defect": ("external_anomaly",),
    "composite_defect": ("porosity", "external_anomaly"),
    "cell_normal": ("none",),
    "module_normal": ("none",),
    "cell_porosity": ("porosity",),
    "module_porosity": ("porosity",),
    "module_resin_overflow": ("resin_overflow",),
    "pollution": ("pollution",),
    "scratch": ("scratch",),
    "damage": ("damage",),
}
_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "normal": {"en": "No defect inside or outside.", "ko": "내부와 외관 모두 결함 없음."},
    "internal_defect": {"en": "A defect inside the battery (CT).", "ko": "배터리 내부 결함 (CT)."},
    "external_defect": {"en": "A defect on the outside of the battery (RGB).", "ko": "배터리 외관 결함 (RGB)."},
    "composite_defect": {
        "en": "Defects both inside (CT) and outside (RGB).",
        "ko": "내부(CT)와 외관(RGB) 모두 결함.",
    },
}
#: severity level -> Streamlit colour name of the severity badge
SEVERITY_COLOURS: dict[str, str] = {"low": "green", "medium": "orange", "high": "red", "critical": "violet"}
_SEVERITY: dict[str, str] = {
    "normal": "low",
    "internal_defect": "high",
    "external_defect": "medium",
    "composite_defect": "critical",
    "cell_porosity": "high",
    "module_porosity": "high",
    "module_resin_overflow": "medium",
    "pollution": "low",
    "scratch": "medium",
    "damage": "high",
}


def defect_info(key: str, lang: str = "en") -> dict[str, str]:
    """Description, severity, severity colour, probable cause and action of a verdict or class.

    Args:
        key: A verdict (:data:`VERDICTS`), a CT class or an RGB class; unknown keys get the
            generic ``defect`` entry.
        lang: ``"ko"`` or ``"en"``.
    """
    types = _KEY_TYPES.get(key, ("defect",))
    if key in _DESCRIPTIONS:
        description = _DESCRIPTIONS[key][lang]
    else:
        description = "; ".join((NAMES.get(t) or NAMES["defect"])[lang] for t in types)
    severity = _SEVERITY.get(key, "low" if types == ("none",) else "medium")
    causes = [f"{(NAMES.get(t) or NAMES['defect'])[lang]}: {(CAUSES.get(t) or CAUSES['defect'])[lang]}"
              for t in types if t != "none"]
    return {
        "key": key,
        "description": description,
        "severity": severity,
        "colour": SEVERITY_COLOURS[severity],
        "probable_cause": "; ".join(causes) or "-",
        "action": " ".join((ACTIONS.get(t) or ACTIONS["defect"])[lang] for t in types),
    }
