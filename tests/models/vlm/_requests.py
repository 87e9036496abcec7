"""Hand-made inspector evidence shared by the VLM and VLG tests."""

from __future__ import annotations

import numpy as np

from models.vlm import FindingRequest

CT_SIZE = (160, 128)  # (width, height)
RGB_SIZE = (200, 120)


def ct_slice() -> np.ndarray:
    """A bright round cell on a dark background (float HxW in [0, 1])."""
    w, h = CT_SIZE
    yy, xx = np.mgrid[:h, :w]
    image = np.full((h, w), 0.05, np.float32)
    image[(xx - w / 2) ** 2 + (yy - h / 2) ** 2 < 55**2] = 0.7
    return image


def rgb_photo() -> np.ndarray:
    """A grey battery on a dark background (uint8 HxWx3)."""
    w, h = RGB_SIZE
    image = np.full((h, w, 3), 30, np.uint8)
    image[15:105, 20:180] = 170
    return image


def ct_attention_upper_left() -> np.ndarray:
    """Attention peaked at (x 40-50, y 25-35): upper-left, just inside the can wall."""
    w, h = CT_SIZE
    attention = np.zeros((h, w), np.float32)
    attention[25:35, 40:50] = 0.8
    attention[28:32, 43:47] = 1.0
    return attention


def rgb_scratch_error() -> np.ndarray:
    """A long thin error streak across the middle of the photo."""
    w, h = RGB_SIZE
    error = np.zeros((h, w), np.float32)
    error[58:62, 40:160] = 0.02
    return error


def evidence(ct_defect: bool = True, rgb_defect: bool = True) -> dict:
    verdict = {
        (True, True): "composite_defect",
        (True, False): "internal_defect",
        (False, True): "external_defect",
        (False, False): "normal",
    }[(ct_defect, rgb_defect)]
    ct_label = "cell_porosity" if ct_defect else "cell_normal"
    probs = {
        "cell_normal": 0.04,
        "cell_porosity": 0.94,
        "module_normal": 0.01,
        "module_porosity": 0.005,
        "module_resin_overflow": 0.005,
    }
    if not ct_defect:
        probs["cell_normal"], probs["cell_porosity"] = 0.94, 0.04
    return {
        "verdict": verdict,
        "confidence": 0.9,
        "ct": {
            "label": ct_label,
            "probabilities": probs,
            "is_defect": ct_defect,
            "confidence": 0.94,
            "boxes": [],
        },
        "rgb": {
            "score": 0.012 if rgb_defect else 0.004,
            "threshold": 0.008,
            "is_defect": rgb_defect,
            "confidence": 0.8,
            "boxes": [],
        },
    }


def make_request(
    lang: str = "en", ct_defect: bool = True, rgb_defect: bool = True, maps: bool = True
) -> FindingRequest:
    return FindingRequest(
        ct_image=ct_slice(),
        rgb_image=rgb_photo(),
        evidence=evidence(ct_defect, rgb_defect),
        ct_attention=ct_attention_upper_left() if maps else None,
        rgb_error_map=rgb_scratch_error() if maps else None,
        battery_type="cell",
        axis="x",
        lang=lang,
    )
