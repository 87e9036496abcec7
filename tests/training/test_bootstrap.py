"""Tests for training.metrics.bootstrap."""

from __future__ import annotations

import numpy as np

from training.metrics.bootstrap import battery_bootstrap


def test_correlated_slices_give_a_wider_interval_than_a_per_slice_bootstrap() -> None:
    # 8 batteries of 50 slices; a battery is right or wrong as a whole (correlated slices)
    correct = np.repeat(np.array([1, 1, 1, 1, 1, 0, 1, 0], bool), 50)

    def acc(idx: np.ndarray) -> float:
        return float(correct[idx].mean())

    by_battery = battery_bootstrap(np.arange(400) // 50, acc, 500)
    per_slice = battery_bootstrap(np.arange(400), acc, 500)
    assert by_battery["low"] <= by_battery["value"] == 0.75 <= by_battery["high"]
    assert (by_battery["high"] - by_battery["low"]) > 3 * (per_slice["high"] - per_slice["low"])
    assert by_battery["n_batteries"] == 8 and per_slice["n_batteries"] == 400


def test_battery_is_the_unit() -> None:
    # two batteries: one all right, one all wrong -> resamples give 0, 0.5 or 1 only
    correct = np.array([1] * 10 + [0] * 10, bool)
    out = battery_bootstrap(np.array(["a"] * 10 + ["b"] * 10), lambda idx: float(correct[idx].mean()), 200)
    assert out["low"] == 0.0 and out["high"] == 1.0


def test_single_battery_has_no_interval_and_undefined_resamples_are_skipped() -> None:
    out = battery_bootstrap(["a"] * 5, lambda idx: 1.0, 100)
    assert out["low"] is None and out["value"] == 1.0
    out = battery_bootstrap(["a", "b"], lambda idx: None if len(set(idx)) < 2 else 1.0, 100)
    assert out["n_resamples"] < 100


def test_recall_on_counts_only_the_asked_class():
    from training.metrics.bootstrap import recall_on

    truth = np.array([True, True, False, False])
    called = np.array([True, False, False, True])
    idx = np.arange(4)
    assert recall_on(truth, called, True)(idx) == 0.5
    assert recall_on(truth, called, False)(idx) == 0.5
    assert recall_on(truth, called, True)(np.array([0, 0])) == 1.0
    assert recall_on(truth, called, True)(np.array([2, 3])) is None
