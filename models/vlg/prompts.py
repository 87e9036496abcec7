"""Text prompts of the grounding backends (seed 002 §5) and their mapping to our defect types."""

from __future__ import annotations

CT_PROMPTS: tuple[str, ...] = ("porosity", "void", "bubble", "resin overflow", "defect")
RGB_PROMPTS: tuple[str, ...] = ("pollution", "contamination", "stain", "scratch", "damage", "dent")

DEFAULT_PROMPTS: dict[str, tuple[str, ...]] = {"ct": CT_PROMPTS, "rgb": RGB_PROMPTS}

# prompt phrase -> defect type used by the inspector (CT: porosity / resin_overflow,
# RGB: pollution / scratch / damage); unknown phrases map to "defect".
LABEL_MAP: dict[str, str] = {
    "porosity": "porosity",
    "void": "porosity",
    "bubble": "porosity",
    "pore": "porosity",
    "resin overflow": "resin_overflow",
    "resin": "resin_overflow",
    "pollution": "pollution",
    "contamination": "pollution",
    "stain": "pollution",
    "scratch": "scratch",
    "damage": "damage",
    "dent": "damage",
    "crack": "damage",
    "defect": "defect",
}


def map_label(phrase: str) -> str:
    """Map a detected phrase (a prompt, possibly with extra words) to our defect type."""
    text = " ".join(str(phrase).lower().replace("_", " ").split())
    if text in LABEL_MAP:
        return LABEL_MAP[text]
    for key in sorted(LABEL_MAP, key=len, reverse=True):  # longest phrase wins ("resin overflow")
        if key in text:
            return LABEL_MAP[key]
    return "defect"
