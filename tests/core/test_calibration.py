"""Softmax calibration read from a checkpoint card."""

from __future__ import annotations

import numpy as np
import pytest

from core.calibration import SoftmaxCalibration
from core.errors import CheckpointError


def test_identity_without_card_fields():
    calibration = SoftmaxCalibration.from_card({}, 3)
    logits = np.array([[1.0, 2.0, 0.5]])
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(calibration.probabilities(logits), expected)


def test_temperature_and_bias_are_applied_in_order():
    calibration = SoftmaxCalibration.from_card({"temperature": 2.0, "class_bias": [0.0, -1.0, 3.0]}, 3)
    logits = np.array([[4.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    scaled = logits / 2.0 + np.array([0.0, -1.0, 3.0])
    expected = np.exp(scaled) / np.exp(scaled).sum(axis=1, keepdims=True)
    got = calibration.probabilities(logits)
    np.testing.assert_allclose(got, expected)
    assert got[0].argmax() == 2  # the bias can change the predicted class, temperature alone cannot
    np.testing.assert_allclose(calibration.probabilities(logits[1]), expected[1])  # 1-D logits too


def test_huge_logits_stay_finite():
    probs = SoftmaxCalibration(0.5, (0.0, 0.0)).probabilities(np.array([1e6, -1e6]))
    assert np.all(np.isfinite(probs)) and probs[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ({"temperature": -1.0}, "must be positive"),
        ({"temperature": float("nan")}, "must be positive"),
        ({"temperature": "warm"}, "not a number"),
        ({"class_bias": [0.0, 1.0]}, "2 values for 3 classes"),
        ({"class_bias": [0.0, "x", 1.0]}, "list of numbers"),
        ({"class_bias": [0.0, float("inf"), 1.0]}, "not finite"),
    ],
)
def test_bad_card_values_are_checkpoint_errors(card, message):
    with pytest.raises(CheckpointError, match=message):
        SoftmaxCalibration.from_card(card, 3)


def test_card_fields_round_trip():
    calibration = SoftmaxCalibration(1.5, (0.25, 0.0))
    assert SoftmaxCalibration.from_card(calibration.card_fields(), 2) == calibration
    assert SoftmaxCalibration(1.5).card_fields() == {"temperature": 1.5, "class_bias": None}
