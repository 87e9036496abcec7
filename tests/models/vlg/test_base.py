"""The VLG base class: thresholds, NMS, label mapping, clipping, registry and errors."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import BackendUnavailable, ConfigError
from models.vlg import Detection, VLGBackend, create_vlg, list_vlgs
from models.vlg.base import nms, xyxy_to_box
from models.vlg.prompts import CT_PROMPTS, RGB_PROMPTS, map_label
from models.vlm import Availability, BackendError, FindingRequest


class _Scripted(VLGBackend):
    name = "scripted"

    def __init__(self, detections=(), error=None, ok=True, **kwargs):
        super().__init__(**kwargs)
        self.detections, self.error, self.ok = list(detections), error, ok
        self.seen: list[tuple[tuple[int, ...], list[str]]] = []

    def _check_availability(self):
        return Availability(self.ok, "" if self.ok else "no scripted weights")

    def _predict(self, image, prompts):
        if self.error:
            raise self.error
        self.seen.append((image.shape, prompts))
        return self.detections


def _request():
    return FindingRequest(ct_image=np.zeros((50, 100), np.float32), rgb_image=np.zeros((40, 60, 3), np.uint8))


def test_registry_lists_the_three_vlgs():
    builtin = ["model_boxes", "grounding_dino", "yolo_world"]
    assert [n for n in list_vlgs() if n in builtin] == builtin  # other tests may register more
    with pytest.raises(ConfigError, match="unknown VLG backend 'owl'"):
        create_vlg("owl")


def test_seed_prompt_lists():
    assert CT_PROMPTS == ("porosity", "void", "bubble", "resin overflow", "defect")
    assert RGB_PROMPTS == ("pollution", "contamination", "stain", "scratch", "damage", "dent")


@pytest.mark.parametrize(
    ("phrase", "label"),
    [
        ("void", "porosity"),
        ("Resin overflow", "resin_overflow"),
        ("a stain", "pollution"),
        ("dent", "damage"),
        ("scratch mark", "scratch"),
        ("something else", "defect"),
    ],
)
def test_map_label(phrase, label):
    assert map_label(phrase) == label


def test_postprocess_thresholds_nms_maps_and_clips():
    detections = [
        Detection("void", 0.9, [10, 10, 30, 30]),
        Detection("bubble", 0.8, [11, 11, 31, 31]),  # overlaps the first: suppressed
        Detection("resin overflow", 0.6, [-20, 40, 500, 80]),  # clipped to the 100x50 CT / 60x40 RGB image
        Detection("defect", 0.1, [0, 0, 5, 5]),  # below the threshold
    ]
    backend = _Scripted(detections, box_threshold=0.3, nms_iou=0.5)
    boxes = backend.detect(_request())
    ct = [b for b in boxes if b["modality"] == "ct"]
    assert ct == [
        {
            "label": "porosity",
            "score": 0.9,
            "box": [10.0, 10.0, 20.0, 20.0],
            "modality": "ct",
            "prompt": "void",
        },
        {
            "label": "resin_overflow",
            "score": 0.6,
            "box": [0.0, 40.0, 100.0, 10.0],
            "modality": "ct",
            "prompt": "resin overflow",
        },
    ]
    rgb = [b["box"] for b in boxes if b["modality"] == "rgb"]
    assert rgb == [[10.0, 10.0, 20.0, 20.0]]  # on the 60x40 photo the third box starts below it: dropped
    assert [s[1] for s in backend.seen] == [list(CT_PROMPTS), list(RGB_PROMPTS)]
    assert backend.seen[0][0] == (50, 100, 3)  # CT floats reach the model as uint8 RGB


def test_nms_and_box_helpers():
    kept = nms([Detection("a", 0.5, [0, 0, 10, 10]), Detection("b", 0.9, [1, 1, 10, 10])], 0.5)
    assert [d.label for d in kept] == ["b"]
    assert xyxy_to_box([30, 5, 10, 25], 20, 20) == [10.0, 5.0, 10.0, 15.0]
    assert xyxy_to_box([25, 25, 30, 30], 20, 20) is None


def test_custom_prompts_per_modality():
    backend = _Scripted(prompts={"ct": ["crack"]})
    backend.detect(_request())
    assert [s[1] for s in backend.seen] == [["crack"], list(RGB_PROMPTS)]


def test_errors():
    with pytest.raises(BackendUnavailable, match="no scripted weights"):
        _Scripted(ok=False).detect(_request())
    with pytest.raises(BackendError, match="scripted failed: RuntimeError: cuda"):
        _Scripted(error=RuntimeError("cuda")).detect(_request())
