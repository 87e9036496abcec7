"""Tests for core.window: square crop windows and mapping results back."""

from __future__ import annotations

import numpy as np
import pytest

from core.window import crop_window, square_window, uncrop_boxes, uncrop_map


def test_square_window_is_centred_and_grown_by_the_margin():
    x0, y0, side = square_window((10, 20, 40, 20), margin=0.25)
    assert side == 60  # long side 40 * 1.5
    assert (x0 + side / 2, y0 + side / 2) == (30, 30)  # centre of the box


@pytest.mark.parametrize("fill", ["median", "replicate"])
def test_crop_window_copies_inside_and_pads_outside(fill):
    image = np.arange(100, dtype=np.float32).reshape(10, 10)
    out = crop_window(image, (-2, 3, 6), fill=fill)
    assert out.shape == (6, 6)
    np.testing.assert_array_equal(out[:, 2:], image[3:9, 0:4])
    if fill == "replicate":
        np.testing.assert_array_equal(out[:, 0], image[3:9, 0])
    else:
        border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        assert np.all(out[:, :2] == np.median(border))


def test_crop_window_keeps_colour_channels():
    image = np.zeros((8, 8, 3), np.uint8)
    image[..., 1] = 200
    out = crop_window(image, (4, 4, 8), fill="median")
    assert out.shape == (8, 8, 3) and np.all(out[..., 1] == 200) and np.all(out[..., 0] == 0)


def test_uncrop_map_round_trip_puts_values_back_in_place():
    heat = np.zeros((4, 4), np.float32)
    heat[1, 2] = 1.0
    out = uncrop_map(heat, (5, 6, 4), (12, 12))
    assert out.shape == (12, 12) and out[7, 7] == 1.0 and out.sum() == 1.0


def test_uncrop_map_resizes_and_clips_at_the_image_edge():
    heat = np.ones((2, 2), np.float32)
    out = uncrop_map(heat, (-2, -2, 4), (3, 3))
    assert out[:2, :2].min() == 1.0 and out[2:, :].max() == 0.0 and out[:, 2:].max() == 0.0


def test_uncrop_boxes_shifts_clips_and_drops_boxes_outside():
    boxes = [{"box": [1, 1, 2, 2], "label": "a"}, {"box": [0, 0, 1, 1], "label": "b"}]
    out = uncrop_boxes(boxes, (-1, 5, 4), (10, 10))
    assert out == [{"box": [0, 6, 2, 2], "label": "a"}]
