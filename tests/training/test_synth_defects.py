"""What is drawn on a CT slice: voids darker than their surroundings, exact masks, tight boxes,
resin overflow where resin does not belong, and a stamp far from the battery."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.preprocessing import OutlineCrop
from training.synth.ct import AIR, create_battery
from training.synth.geometry import tight_boxes
from training.synth.rgb import RGBBattery
from training.synth.stamp import apply_stamp


@pytest.mark.parametrize("battery_type", ["cell", "module"])
@pytest.mark.parametrize("axis", ["y", "x"])
def test_porosity_mask_pixels_are_darker_than_their_surroundings(battery_type: str, axis: str) -> None:
    darker = 0
    n = 12
    for i in range(n):
        rng = np.random.default_rng(i)
        battery = create_battery(battery_type, 256, rng)
        img, mask = battery.render(axis, rng.uniform(), f"{battery_type}_porosity", rng)
        m = mask > 0
        assert m.any()
        ring = cv2.dilate(mask, np.ones((9, 9), np.uint8)) > 0
        ring &= ~m
        if img[m].mean() < img[ring].mean() - 0.02:
            darker += 1
    assert darker >= n - 1  # allow one subtle-tail void


def test_mask_is_exactly_the_changed_pixels() -> None:
    # Same generator state with and without the defect: only mask pixels differ before artefacts.
    battery = create_battery("cell", 128, np.random.default_rng(1))
    clean = battery.structure("y", 0.3, np.random.default_rng(2))
    defect = battery.structure("y", 0.3, np.random.default_rng(2))
    from training.synth.defects import add_porosity

    mask = np.zeros(defect.image.shape, bool)
    add_porosity(
        defect.image, mask, defect.regions["electrode"], battery.porosity, np.random.default_rng(3), AIR
    )
    changed = defect.image != clean.image
    assert mask.any() and (changed <= mask).all() and changed.sum() >= 0.9 * mask.sum()


def test_resin_overflow_only_where_there_was_no_material() -> None:
    for i, axis in enumerate(["y", "x"] * 4):
        battery = create_battery("module", 256, np.random.default_rng(10 + i))
        clean = battery.structure(axis, 0.5, np.random.default_rng(0)).image
        img, mask = battery.render(axis, 0.5, "module_resin_overflow", np.random.default_rng(i))
        m = mask > 0
        assert m.sum() > 60  # visible after 256 -> 128
        assert (clean[m] < AIR + 0.05).all()  # resin filled empty space only
        assert img[m].mean() > 0.2  # and it is resin-dense


def test_cell_battery_has_no_resin_overflow() -> None:
    battery = create_battery("cell", 128, np.random.default_rng(0))
    with pytest.raises(ValueError):
        battery.render("y", 0.5, "module_resin_overflow", np.random.default_rng(0))


def test_boxes_are_tight_around_mask_components() -> None:
    mask = np.zeros((40, 40), np.uint8)
    mask[5:9, 10:20] = 255
    mask[30, 30] = 255
    assert sorted(tight_boxes(mask)) == [[10, 5, 10, 4], [30, 30, 1, 1]]


def test_battery_keeps_its_geometry_across_slices() -> None:
    battery = create_battery("module", 128, np.random.default_rng(4))
    other = create_battery("module", 128, np.random.default_rng(5))
    a = battery.render("y", 0.2, "module_normal", np.random.default_rng(0))[0]
    b = battery.render("y", 0.8, "module_normal", np.random.default_rng(1))[0]
    c = other.render("y", 0.2, "module_normal", np.random.default_rng(0))[0]
    outline = OutlineCrop().bbox
    assert outline(a) == pytest.approx(outline(b), abs=2)
    assert np.abs(np.array(outline(a)) - np.array(outline(c))).max() > 2


@pytest.mark.parametrize("battery_type", ["cell", "module"])
def test_stamp_is_outside_the_battery_outline(battery_type: str) -> None:
    for i in range(8):
        rng = np.random.default_rng(i)
        battery = create_battery(battery_type, 256, rng)
        img, mask = battery.render("yx"[i % 2], 0.5, f"{battery_type}_porosity", rng)
        clean = img.copy()
        x, y, w, h = apply_stamp(img, rng)
        assert (img != clean).sum() > 100  # a strong, visible cue
        bx, by, bw, bh = OutlineCrop().bbox(clean)
        overlap_x = min(x + w, bx + bw) - max(x, bx)
        overlap_y = min(y + h, by + bh) - max(y, by)
        assert overlap_x <= 0 or overlap_y <= 0
        assert not mask[y : y + h, x : x + w].any()


@pytest.mark.parametrize("label", ["pollution", "scratch", "damage"])
def test_rgb_defects_are_on_the_battery_and_change_it(label: str) -> None:
    for i in range(4):
        battery = RGBBattery("cell" if i % 2 else "module", 128, np.random.default_rng(i))
        img, mask = battery.render(label, np.random.default_rng(100 + i))
        clean, _ = battery.render("normal", np.random.default_rng(100 + i))
        m = mask > 0
        assert m.any()
        diff = np.abs(img.astype(int) - clean.astype(int)).sum(axis=2)
        assert diff[m].mean() > 3 * max(diff[~m].mean(), 1.0)
