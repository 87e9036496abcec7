"""Reports of one inspection: JSON round trip, Markdown content, PDF with and without a Hangul font."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inspector import report


def _inspection() -> dict:
    return {
        "verdict": "composite_defect",
        "confidence": 0.8125,
        "ct": {
            "label": "cell_porosity",
            "probabilities": {"cell_normal": 0.1, "cell_porosity": 0.9},
            "is_defect": True,
            "confidence": 0.9,
            "boxes": [{"label": "porosity", "score": 0.7, "box": [10, 12, 20, 8]}],
        },
        "rgb": {"score": 0.031, "threshold": 0.02, "is_defect": True, "confidence": 0.725, "boxes": []},
        "vlm": {
            "backend": "offline",
            "available": True,
            "error": None,
            "latency_ms": 5.0,
            "finding": {
                "defect_detected": True,
                "defect_type": "porosity",
                "location": "upper left",
                "boxes": [],
                "severity": "high",
                "probable_cause": "gas release during formation",
                "recommended_action": "reject the cell",
                "summary": "내부 기공이 보입니다",
                "language": "ko",
            },
        },
        "vlg": {
            "backend": "grounding_dino",
            "available": False,
            "boxes": [],
            "error": "no weights",
            "latency_ms": 0,
        },
        "timings_ms": {"ct": 41.0, "rgb": 12.5},
        "inputs": {"ct": "a_ct.png", "rgb": "a_rgb.png"},
    }


def test_json_round_trips_and_keeps_korean_readable():
    text = report.report_json(_inspection() | {"extra": np.float32(0.5)})
    assert json.loads(text)["verdict"] == "composite_defect"
    assert json.loads(text)["extra"] == 0.5
    assert "내부 기공" in text  # not \\u-escaped


@pytest.mark.parametrize(
    ("lang", "verdict_text", "severity"), [("ko", "복합불량", "높음"), ("en", "Composite defect", "high")]
)
def test_markdown_has_every_part_in_the_language(lang, verdict_text, severity):
    md = report.report_markdown(_inspection(), lang=lang)
    assert md.startswith("# ")
    assert "복합불량 (Composite defect)" in md  # verdict always bilingual
    assert verdict_text in md
    assert "cell_porosity" in md and "90.0%" in md
    assert "0.031" in md and "0.02" in md
    assert severity in md and "reject the cell" in md
    assert "no weights" in md  # VLG error shown, not hidden
    assert "[10, 12, 20, 8]" in md
    assert "41 ms" in md


def test_markdown_marks_missing_side():
    md = report.report_markdown(_inspection() | {"rgb": None, "vlm": None}, lang="en")
    assert "not provided" in md
    assert "not run" in md


def test_pdf_with_hangul_font_embeds_it():
    if report.find_cjk_font() is None:
        pytest.skip("no Hangul TTF installed (make browser installs fonts-nanum)")
    pdf = report.report_pdf(_inspection(), lang="ko", images={"CT": np.zeros((32, 32), np.float32)})
    assert pdf.startswith(b"%PDF")
    assert b"FontFile2" in pdf  # the TrueType font is embedded
    assert b"/Image" in pdf or b"/XObject" in pdf


def test_pdf_without_font_degrades_to_english(monkeypatch, tmp_path):
    monkeypatch.setattr(report, "find_cjk_font", lambda: None)
    pdf = report.report_pdf(_inspection(), lang="ko")
    assert pdf.startswith(b"%PDF")
    assert b"FontFile2" not in pdf


def test_font_env_override_is_used(monkeypatch, tmp_path):
    font = tmp_path / "any.ttf"
    font.write_bytes(b"\0")
    monkeypatch.setenv(report.FONT_ENV, str(font))
    assert report.find_cjk_font() == font


def test_sections_handle_list_probabilities_and_bad_values():
    inspection = _inspection()
    inspection["ct"]["probabilities"] = [0.25, 0.75]
    inspection["confidence"] = None
    sections = report.build_sections(inspection, "en")
    rows = dict(sections[1].rows)
    assert rows["1"] == "75.0%"
    assert dict(sections[0].rows)["Confidence"] == "-"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.9997, ">99.9%"), (1.0, "100.0%"), (0.9994, "99.9%"), (0.5, "50.0%"), (0.0003, "<0.1%"), (0.0, "0.0%"),
     (float("nan"), "-"), (None, "-"), (True, "-")],
)  # fmt: skip
def test_percent_never_rounds_to_a_certainty_the_model_did_not_state(value, text):
    assert report.format_percent(value) == text


def test_markdown_shows_the_review_flag_with_reasons():
    flagged = _inspection() | {"needs_review": True, "review_reasons": ["ct_out_of_distribution", "ct_low_margin"]}
    md = report.report_markdown(flagged, lang="en")
    assert "검토 필요 / needs review" in md and "out of distribution" in md and "close to its threshold" in md
    assert "needs review" not in report.report_markdown(_inspection() | {"needs_review": False}, lang="en")


def test_pdf_without_font_still_renders_a_flagged_inspection(monkeypatch):
    monkeypatch.setattr(report, "find_cjk_font", lambda: None)
    flagged = _inspection() | {"needs_review": True, "review_reasons": ["ct_blank_image"]}
    assert report.report_pdf(flagged, lang="ko").startswith(b"%PDF")
