"""Tolerant parsing of free-text VLM answers and 0-1000 box conversion."""

from __future__ import annotations

import numpy as np
import pytest

from models.vlm import FindingRequest
from models.vlm.parsing import box_to_pixels, extract_json, parse_answer, parse_bool, parse_severity
from models.vlm.prompts import BOX_XYXY_1000, BOX_YXYX_1000

ANSWER = (
    '{"defect_detected": "yes", "defect_type": "Resin Overflow", "location": "top", "severity": "Moderate", '
    '"probable_cause": ["excess resin", "nozzle"], "recommended_action": "hold", "summary": "s", '
    '"boxes": [{"label": "resin", "image": "ct", "box_2d": [100, 200, 300, 600]}, {"label": "bad", "box_2d": [1, 2]}]}'
)


@pytest.mark.parametrize(
    "text",
    [
        ANSWER,
        f"Sure! Here is the finding:\n```json\n{ANSWER}\n```\nHope this helps.",
        f"```\n{ANSWER}\n```",
        f"The analysis {{as requested}}: {ANSWER} -- end",
    ],
)
def test_extract_json_from_prose_and_fences(text):
    assert extract_json(text)["defect_type"] == "Resin Overflow"


def test_extract_json_fails_clearly():
    with pytest.raises(ValueError, match="no JSON object"):
        extract_json("I cannot tell from this image.")


def test_words_to_values():
    assert parse_bool("Yes") and parse_bool(1) and not parse_bool("no") and parse_bool("불량")
    assert parse_severity("Moderate") == "medium"
    assert parse_severity("심각") == "high"
    assert parse_severity("CRITICAL") == "critical"
    with pytest.raises(ValueError):
        parse_severity("unclear")


def test_box_conventions():
    # Gemini: [ymin, xmin, ymax, xmax] on 0-1000
    assert box_to_pixels([100, 200, 300, 600], BOX_YXYX_1000, 500, 200) == [100.0, 20.0, 200.0, 40.0]
    # Qwen3-VL: [x1, y1, x2, y2] on 0-1000, clipped to the grid
    assert box_to_pixels([200, 100, 1200, 300], BOX_XYXY_1000, 500, 200) == [100.0, 20.0, 400.0, 40.0]


def test_parse_answer_gives_pixel_boxes_and_drops_bad_ones():
    request = FindingRequest(ct_image=np.zeros((200, 500), np.float32))
    raw = parse_answer(ANSWER, request, BOX_YXYX_1000)
    assert raw["defect_detected"] is True
    assert raw["defect_type"] == "resin_overflow"
    assert raw["severity"] == "medium"
    assert raw["probable_cause"] == "excess resin; nozzle"
    assert raw["boxes"] == [
        {"label": "resin", "score": 1.0, "box": [100.0, 20.0, 200.0, 40.0], "modality": "ct"}
    ]
