"""The offline findings writer on hand-made inspector evidence."""

from __future__ import annotations

import pytest

from models.vlm import Finding, create_vlm
from models.vlm.findings_writer import severity_rule
from tests.models.vlm._requests import make_request


@pytest.fixture()
def writer():
    return create_vlm("findings_writer")


def test_always_available_and_not_a_vlm(writer):
    assert writer.availability().ok
    assert writer.is_model is False


def test_composite_defect_in_english(writer):
    finding = writer.describe(make_request("en"))
    assert isinstance(finding, Finding)
    data = finding.to_dict()
    assert set(data) == {
        "defect_detected",
        "defect_type",
        "location",
        "boxes",
        "severity",
        "probable_cause",
        "recommended_action",
        "summary",
        "language",
        "verdict",
        "confidence",
        "ct_class",
        "ct_class_confidence",
        "rgb_class",
        "rgb_class_confidence",
    }
    assert data["verdict"] == "composite_defect" and 0.0 < data["confidence"] <= 1.0
    assert data["ct_class"] == "cell_porosity" and data["ct_class_confidence"] == 0.94
    assert data["rgb_class"] == "scratch"
    assert data["defect_detected"] is True
    assert data["language"] == "en"
    assert "porosity" in data["defect_type"]
    assert "scratch" in data["defect_type"]  # the thin error streak reads as a scratch
    assert "upper-left" in data["location"] and "near the can wall" in data["location"]
    assert data["severity"] == "critical"  # composite internal + external
    assert "no vision-language model" in data["summary"]
    assert "0.94" in data["summary"] and "threshold" in data["summary"]
    assert "gas" in data["probable_cause"]
    ct_boxes = [b for b in data["boxes"] if b["modality"] == "ct"]
    assert ct_boxes and ct_boxes[0]["source"] == "ct_attention"
    x, y, w, h = ct_boxes[0]["box"]
    assert 38 <= x <= 42 and 23 <= y <= 27 and 8 <= w <= 12 and 8 <= h <= 12


def test_korean_finding(writer):
    data = writer.describe(make_request("ko")).to_dict()
    assert data["language"] == "ko"
    assert "좌측 상단" in data["location"] and "캔 벽" in data["location"]
    assert "VLM 아님" in data["summary"]
    assert "가스" in data["probable_cause"]


def test_normal_battery(writer):
    data = writer.describe(make_request("en", ct_defect=False, rgb_defect=False)).to_dict()
    assert data["defect_detected"] is False
    assert data["defect_type"] == "none"
    assert data["severity"] == "low"
    assert data["boxes"] == []
    assert "No defect" in data["summary"]


def test_internal_only_uses_evidence_boxes_without_maps(writer):
    request = make_request("en", ct_defect=True, rgb_defect=False, maps=False)
    request.evidence["ct"]["boxes"] = [{"label": "porosity", "score": 0.7, "box": [100, 90, 20, 10]}]
    data = writer.describe(request).to_dict()
    assert data["defect_type"] == "porosity"
    assert data["severity"] == "high"
    assert data["boxes"][0]["box"] == [100.0, 90.0, 20.0, 10.0]
    assert "lower-right" in data["location"]


def test_diffuse_attention_is_called_so(writer):
    request = make_request("en", rgb_defect=False)
    request.ct_attention = request.ct_attention * 0 + 1.0  # the whole slice is "hot"
    data = writer.describe(request).to_dict()
    assert "too wide to size the defect" in data["location"]
    assert data["severity"] == "high"  # porosity, not raised by the diffuse area


def test_no_evidence_reports_nothing(writer):
    request = make_request("en")
    request.evidence = {}
    data = writer.describe(request).to_dict()
    assert data["defect_detected"] is False
    assert "No inspector evidence" in data["summary"]


@pytest.mark.parametrize(
    ("types", "area", "composite", "expected"),
    [
        ([], 0.0, False, "low"),
        (["pollution"], 0.01, False, "low"),
        (["pollution"], 0.10, False, "medium"),
        (["resin_overflow"], 0.01, False, "medium"),
        (["porosity"], 0.01, False, "high"),
        (["porosity"], 0.08, False, "critical"),
        (["porosity"], 0.48, False, "high"),  # a map over half the slice does not size a defect
        (["pollution", "porosity"], 0.0, True, "critical"),
        (["pollution", "resin_overflow"], 0.0, True, "high"),
    ],
)
def test_severity_rule(types, area, composite, expected):
    assert severity_rule(types, area, composite) == expected


def test_normal_ct_only_names_only_the_ct_model(writer):
    request = make_request("en", ct_defect=False, rgb_defect=False)
    request.rgb_image = None
    request.evidence["rgb"] = None
    summary = writer.describe(request).summary
    assert "No defect found by the CT classifier." in summary and "RGB" not in summary


def test_the_verdict_decides_when_one_side_was_overruled(writer):
    request = make_request("en", ct_defect=True, rgb_defect=False)
    request.evidence["verdict"] = "normal"  # AND policy: the CT alone does not make a defect
    data = writer.describe(request).to_dict()
    assert data["defect_detected"] is False and data["boxes"] == []
    assert "cell_porosity" in data["summary"]  # the side's evidence is still reported
    assert "did not confirm" in data["summary"] and "No defect found" not in data["summary"]
