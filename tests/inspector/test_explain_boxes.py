"""Box extraction from hand-made maps."""

import numpy as np
import pytest

from inspector.explain.boxes import boxes_from_map, rescale_boxes


def _two_blobs() -> np.ndarray:
    heat = np.zeros((64, 64), dtype=np.float32)
    heat[10:20, 5:15] = 0.9  # 10x10 square at x=5, y=10
    heat[40:50, 30:60] = 0.6  # 30x10 bar at x=30, y=40
    heat[0, 63] = 1.0  # a single hot pixel: noise below min_area
    return heat


def test_boxes_match_hand_made_regions_sorted_by_score():
    boxes = boxes_from_map(_two_blobs(), threshold=0.5, label="porosity", min_area=4)
    assert [b["box"] for b in boxes] == [[5, 10, 10, 10], [30, 40, 30, 10]]
    assert [b["score"] for b in boxes] == pytest.approx([0.9, 0.6])
    assert all(b["label"] == "porosity" for b in boxes)


def test_threshold_and_min_area_filter_regions():
    heat = _two_blobs()
    assert [b["box"] for b in boxes_from_map(heat, threshold=0.7)] == [[5, 10, 10, 10]]
    assert boxes_from_map(heat, threshold=0.5, min_area=400) == []
    assert boxes_from_map(np.zeros((8, 8)), threshold=0.5) == []


def test_max_boxes_keeps_the_strongest_and_nan_is_ignored():
    heat = _two_blobs()
    heat[30, 5] = np.nan
    boxes = boxes_from_map(heat, threshold=0.5, max_boxes=1, min_area=1)
    assert boxes == [{"label": "defect", "score": pytest.approx(1.0), "box": [63, 0, 1, 1]}]


def test_boxes_reject_non_2d_maps():
    with pytest.raises(ValueError, match="2-D"):
        boxes_from_map(np.zeros((2, 8, 8)))


def test_rescale_boxes_maps_to_input_pixels_and_clips():
    boxes = [
        {"label": "d", "score": 0.5, "box": [8, 4, 8, 4]},
        {"label": "d", "score": 0.4, "box": [60, 60, 4, 4]},
    ]
    out = rescale_boxes(boxes, src_hw=(64, 64), dst_hw=(128, 32))
    assert out[0] == {"label": "d", "score": 0.5, "box": [4, 8, 4, 8]}
    x, y, w, h = out[1]["box"]
    assert x + w <= 32 and y + h <= 128 and w >= 1 and h >= 1
