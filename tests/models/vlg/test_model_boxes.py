"""The offline model_boxes backend on hand-made inspector evidence."""

from __future__ import annotations

from models.vlg import create_vlg
from tests.models.vlm._requests import make_request


def test_always_available_and_not_a_model():
    backend = create_vlg("model_boxes")
    assert backend.availability().ok and backend.is_model is False


def test_boxes_from_attention_and_error_map():
    boxes = create_vlg("model_boxes").detect(make_request())
    ct = [b for b in boxes if b["modality"] == "ct"]
    rgb = [b for b in boxes if b["modality"] == "rgb"]
    assert len(ct) == 1 and len(rgb) == 1
    assert ct[0]["label"] == "porosity" and ct[0]["source"] == "ct_attention"
    assert ct[0]["box"] == [40.0, 25.0, 10.0, 10.0]
    assert rgb[0]["source"] == "rgb_error_map" and rgb[0]["box"] == [40.0, 58.0, 120.0, 4.0]
    assert "prompt" not in ct[0]


def test_normal_sides_give_no_boxes_unless_asked():
    request = make_request(ct_defect=False, rgb_defect=False)
    assert create_vlg("model_boxes").detect(request) == []
    assert len(create_vlg("model_boxes", only_defective=False).detect(request)) == 2


def test_evidence_boxes_win_over_maps():
    request = make_request(rgb_defect=False)
    request.evidence["ct"]["boxes"] = [
        {"label": "porosity", "score": 0.7, "box": [100, 90, 20, 10], "source": "gain_localisation"}
    ]
    (box,) = create_vlg("model_boxes").detect(request)
    assert box == {
        "label": "porosity",
        "score": 0.7,
        "box": [100.0, 90.0, 20.0, 10.0],
        "modality": "ct",
        "source": "gain_localisation",
    }
