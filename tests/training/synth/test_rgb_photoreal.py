"""Photoreal RGB photos: reproducible, defects only on the battery, masks exactly the changed
pixels, and stations (hence styles) that differ measurably."""

from __future__ import annotations

import dataclasses
import itertools

import cv2
import numpy as np
import pytest

from training.synth.rgb_photoreal import (
    DEFECTS,
    FITTING_STATIONS,
    HOLDOUT_STATIONS,
    STATIONS,
    PhotorealBattery,
)
from training.synth.rgb_photoreal.backgrounds import BACKGROUNDS
from training.synth.rgb_photoreal.forms import FORMS
from training.synth.rgb_photoreal.layers import Layers

VARIANTS = [(label, name) for label, variants in DEFECTS.items() for name in variants]
SIZE = 128


def _battery(seed: int, battery_type: str, stations: tuple[str, ...] = FITTING_STATIONS) -> PhotorealBattery:
    return PhotorealBattery(battery_type, SIZE, np.random.default_rng(seed), stations)


def test_same_seed_same_photo_other_seed_differs() -> None:
    a = _battery(3, "cell").photo("damage", np.random.default_rng(9))
    b = _battery(3, "cell").photo("damage", np.random.default_rng(9))
    c = _battery(3, "cell").photo("damage", np.random.default_rng(10))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert not np.array_equal(a.image, c.image)
    assert a.image.dtype == np.uint8 and a.image.shape == (SIZE, SIZE, 3)


@pytest.mark.parametrize(("label", "variant"), VARIANTS)
def test_defect_changes_pixels_only_inside_its_mask_and_mask_is_on_the_battery(
    label: str, variant: str
) -> None:
    for seed, battery_type in itertools.product(range(3), ("cell", "module")):
        battery = _battery(seed, battery_type, tuple(STATIONS))
        defect = battery.photo(label, np.random.default_rng(50 + seed), variant)
        clean = battery.photo("normal", np.random.default_rng(50 + seed))
        changed = (defect.image != clean.image).any(axis=2)
        assert defect.variant == variant
        assert defect.mask.sum() >= 10, (seed, battery_type)  # visible
        assert not (changed & ~defect.mask).any()  # nothing changes outside the mask
        assert not (defect.mask & ~defect.silhouette).any()  # the mask is on the battery
        assert changed.sum() >= 0.8 * defect.mask.sum()  # and nearly all its pixels changed
        assert not clean.mask.any()


@pytest.mark.parametrize(("label", "variant"), VARIANTS)
def test_defect_draws_into_battery_layers_only(label: str, variant: str) -> None:
    for seed, forms in itertools.product(range(2), FORMS.values()):
        for form, _ in forms:
            layers = Layers.empty(SIZE)
            form(np.random.default_rng(seed), SIZE).draw(
                layers, np.random.default_rng(seed), STATIONS["tray"], 1.0
            )
            damaged = layers.copy()
            DEFECTS[label][variant](damaged, np.random.default_rng(seed), SIZE / 256)
            outside = ~layers.sil
            moved = False
            for field in dataclasses.fields(Layers):
                before, after = getattr(layers, field.name), getattr(damaged, field.name)
                assert np.array_equal(before[outside], after[outside]), (form.__name__, field.name)
                moved |= not np.array_equal(before, after)
            assert moved, form.__name__


def test_every_form_and_station_renders() -> None:
    for k, station in enumerate(STATIONS):
        for battery_type in ("cell", "module"):
            photo = _battery(k, battery_type, (station,)).photo("normal", np.random.default_rng(k))
            sil = photo.silhouette.mean()
            assert 0.03 < sil < 0.9, (station, battery_type)
    assert set(FITTING_STATIONS).isdisjoint(HOLDOUT_STATIONS)
    assert {s.background for s in STATIONS.values()} <= set(BACKGROUNDS)


def _background_statistics(station: str, n: int = 5) -> np.ndarray:
    rows = []
    for i in range(n):
        photo = _battery(i, "cell", (station,)).photo("normal", np.random.default_rng(i))
        img = photo.image.astype(np.float32) / 255
        bg = ~cv2.dilate(photo.silhouette.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        grey = img.mean(axis=2)
        edges = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
        saturation = img.max(axis=2) - img.min(axis=2)
        cast = (img[..., 0] - img[..., 2])[bg].mean()
        rows.append([grey[bg].mean(), grey[bg].std(), cast, edges[bg].mean(), saturation[bg].mean()])
    return np.mean(rows, axis=0)


def test_stations_and_styles_differ_in_background_statistics() -> None:
    stats = {name: _background_statistics(name) for name in STATIONS}
    for a, b in itertools.combinations(STATIONS, 2):
        # brightness, texture contrast, colour cast, fine detail or saturation: one differs clearly
        assert np.abs(stats[a] - stats[b]).max() > 0.04, (a, b)
    fit = np.array([stats[s] for s in FITTING_STATIONS])
    held = np.array([stats[s] for s in HOLDOUT_STATIONS])
    assert np.abs(fit.mean(0) - held.mean(0)).max() > 0.05
