"""Verdict fields of a finding, the VLG verdict from boxes, blind requests and the defect table."""

from __future__ import annotations

import pytest

from models.vlg.base import verdict_from_boxes
from models.vlm import Finding
from models.vlm.prompts import build_prompt, prompt_images
from models.vlm.verdicts import VERDICTS, defect_info, derive_verdict, parse_verdict
from tests.models.vlm._requests import make_request


def _finding(**kw):
    base = dict(
        defect_detected=True, defect_type="scratch", location="", boxes=[], severity="medium",
        probable_cause="", recommended_action="", summary="", language="en",
    )
    return Finding(**{**base, **kw})


def test_finding_parses_a_verdict_and_clips_confidences():
    f = _finding(verdict="Internal defect", confidence="85%", ct_class="porosity", ct_class_confidence=2)
    assert f.verdict == "internal_defect" and f.confidence == 0.85
    assert f.ct_class is None  # "porosity" is ambiguous between the cell and module classes
    f = _finding(verdict=None, rgb_class="Scratch", rgb_class_confidence=0.7)
    assert f.verdict == "external_defect" and f.rgb_class == "scratch" and f.rgb_class_confidence == 0.7


def test_a_defect_verdict_implies_defect_detected():
    assert _finding(defect_detected=False, verdict="composite_defect").defect_detected is True


@pytest.mark.parametrize(
    "types, boxes, expected",
    [
        ("porosity", [], "internal_defect"),
        ("scratch", [], "external_defect"),
        ("other", [{"modality": "ct"}, {"modality": "rgb"}], "composite_defect"),
        ("other", [], "composite_defect"),  # both images, no side named
    ],
)
def test_derive_verdict(types, boxes, expected):
    assert derive_verdict(True, types, boxes, None, None, ["ct", "rgb"]) == expected
    assert derive_verdict(False, types, boxes, None, None, ["ct", "rgb"]) == "normal"


def test_parse_verdict_korean_and_unknown():
    assert parse_verdict("복합 불량") == "composite_defect"
    assert parse_verdict("maybe") is None


def test_vlg_verdict_uses_the_top_score_per_modality():
    boxes = [
        {"modality": "ct", "score": 0.2},
        {"modality": "ct", "score": 0.6},
        {"modality": "rgb", "score": 0.3},
    ]
    assert verdict_from_boxes(boxes, 0.5, ["ct", "rgb"]) == ("internal_defect", 0.6)
    assert verdict_from_boxes(boxes, 0.25, ["ct", "rgb"]) == ("composite_defect", 0.45)
    assert verdict_from_boxes(boxes, 0.7, ["ct", "rgb"]) == ("normal", round((0.4 + 0.7) / 2, 4))
    assert verdict_from_boxes([], 0.5, ["rgb"]) == ("normal", 1.0)


def test_blind_request_carries_no_evidence():
    request = make_request("en")
    blind = request.blind()
    assert blind.mode == "blind" and blind.evidence == {}
    assert [k for k, _ in prompt_images(blind)] == ["ct_image", "rgb_image"]
    prompt = build_prompt(blind)
    assert "cell_porosity 0.94" not in prompt and "judge from the images alone" in prompt
    assert "cell_porosity 0.94" in build_prompt(request)


@pytest.mark.parametrize("key", [*VERDICTS, "cell_porosity", "module_resin_overflow", "scratch", "damage"])
def test_defect_table_covers_every_verdict_and_class(key):
    for lang in ("en", "ko"):
        info = defect_info(key, lang)
        assert info["description"] and info["action"] and info["colour"] in {"green", "orange", "red", "violet"}
    assert defect_info("normal")["colour"] == "green"
    assert "gas" in defect_info("cell_porosity")["probable_cause"]
