"""``evaluate vlg``: box recall at IoU 0.3 over a manifest split."""

from __future__ import annotations

import pytest

from inspector.evaluation.dataset import box_iou, match_boxes, select_rows
from inspector.evaluation.vlg import evaluate_vlg
from models.vlg import Detection, VLGBackend
from models.vlm import Availability
from tests.inspector.evaluation.conftest import DEFECT_BOX


class _Scripted(VLGBackend):
    """Finds the defect box (shifted so IoU ~0.4) on CT, a wrong box on RGB, and a false alarm on normals."""

    name = "scripted"

    def __init__(self):
        super().__init__(box_threshold=0.0)

    def _check_availability(self):
        return Availability(True)

    def _predict(self, image, prompts):
        x, y, w, h = DEFECT_BOX
        if "porosity" in prompts:
            return [Detection("void", 0.9, [x + 5, y + 3, x + w + 5, y + h + 3])]
        return [Detection("scratch", 0.5, [40, 0, 60, 10])]


def test_iou_and_matching():
    assert box_iou([0, 0, 10, 10], [5, 0, 10, 10]) == pytest.approx(1 / 3)
    assert match_boxes([[0, 0, 10, 10]], [[5, 0, 10, 10], [0, 0, 10, 10]], 0.3) == (1, 1)
    assert match_boxes([[0, 0, 10, 10]], [[50, 50, 5, 5]], 0.3) == (0, 0)


def test_box_recall_at_iou_03(dataset):
    x, y, w, h = DEFECT_BOX
    assert 0.3 <= box_iou(DEFECT_BOX, [x + 5, y + 3, w, h]) < 0.5
    metrics = evaluate_vlg(_Scripted(), select_rows(dataset, "test"))
    assert metrics["box_recall"] == 0.5  # CT box found, RGB box missed
    assert metrics["box_precision"] == 0.5
    assert metrics["defect_image_hit_rate"] == 0.5  # the CT image's box is found, the RGB one is not
    assert metrics["defect_image_any_box_rate"] == 1.0
    assert metrics["normal_false_alarm_rate"] == 1.0
    assert metrics["n_gt_boxes"] == 2 and metrics["n_images"] == 4 and metrics["iou_threshold"] == 0.3


def test_stricter_iou_misses_the_shifted_box(dataset):
    metrics = evaluate_vlg(_Scripted(), select_rows(dataset, "test"), iou=0.5)
    assert metrics["box_recall"] == 0.0


def test_offline_backends_get_the_inspectors_evidence(dataset, monkeypatch):
    """model_boxes reads maps, so the evaluation runs the inspector on each image first."""
    from types import SimpleNamespace

    import numpy as np

    import inspector.pipeline
    from inspector.evaluation.vlg import evaluate_from_cli
    from models.vlm import FindingRequest

    calls = []

    class _FakeInspector:
        predictors = {"ct": object(), "rgb": object()}

        @classmethod
        def load(cls, settings=None):
            return cls()

        def analyse(self, ct=None, rgb=None, battery_type=None, axis=None):
            calls.append((ct is not None, rgb is not None, battery_type, axis))
            image = ct if ct is not None else rgb
            attention = np.zeros(image.shape[:2], np.float32)
            x, y, w, h = DEFECT_BOX
            attention[y : y + h, x : x + w] = 1.0
            side = "ct" if ct is not None else "rgb"
            request = FindingRequest(
                ct_image=ct,
                rgb_image=rgb,
                evidence={side: {"is_defect": True, "label": "cell_porosity", "boxes": []}},
                ct_attention=attention if ct is not None else None,
                rgb_error_map=attention if rgb is not None else None,
            )
            return SimpleNamespace(finding_request=lambda lang="en": request)

    monkeypatch.setattr(inspector.pipeline, "Inspector", _FakeInspector)
    args = SimpleNamespace(backend="model_boxes", data=str(dataset), split="test", limit=None)
    metrics = evaluate_from_cli(args)
    assert len(calls) == 4 and calls[0] == (True, False, "cell", "x")
    assert metrics["box_recall"] == 1.0 and metrics["normal_false_alarm_rate"] == 1.0
