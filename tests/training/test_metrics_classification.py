"""Classification and calibration metrics against small hand-checked cases."""

import numpy as np
import pytest

from training.metrics.calibration import (
    expected_calibration_error,
    fit_calibration,
    fit_temperature,
    fit_temperature_bias,
    softmax_with_temperature,
)
from training.metrics.classification import binary_metrics, classification_metrics, defect_mask

NAMES = ["cell_normal", "cell_porosity", "module_normal", "module_porosity", "module_resin_overflow"]


def _one_hot(pred, n=5, p=0.9):
    probs = np.full((len(pred), n), (1 - p) / (n - 1))
    probs[np.arange(len(pred)), pred] = p
    return probs


def test_per_class_confusion_and_macro_f1():
    labels = [0, 0, 1, 1, 2, 3, 4, 4]
    pred = [0, 1, 1, 0, 2, 3, 4, 2]
    m = classification_metrics(labels, _one_hot(pred), NAMES)
    assert m["accuracy"] == pytest.approx(5 / 8)
    assert m["confusion_matrix"][0] == [1, 1, 0, 0, 0]
    assert m["confusion_matrix"][4] == [0, 0, 1, 0, 1]
    # class 2: tp 1, fp 1 -> precision 0.5, recall 1, f1 2/3; class 4: precision 1, recall 0.5
    assert m["per_class"]["module_normal"]["precision"] == pytest.approx(0.5)
    assert m["per_class"]["module_normal"]["f1"] == pytest.approx(2 / 3)
    assert m["per_class"]["module_resin_overflow"]["recall"] == pytest.approx(0.5)
    f1s = [0.5, 0.5, 2 / 3, 1.0, 2 / 3]
    assert m["macro_f1"] == pytest.approx(np.mean(f1s))
    assert m["per_class"]["cell_normal"]["support"] == 2 and m["n_images"] == 8


def test_binary_normal_vs_defect():
    assert defect_mask(NAMES).tolist() == [False, True, False, True, True]
    labels = [0, 0, 1, 1, 2, 3, 4, 4]
    pred = [0, 1, 1, 0, 2, 3, 4, 2]
    b = classification_metrics(labels, _one_hot(pred, p=0.96), NAMES)["binary"]
    # defects: images 2,3,5,6,7 -> predicted defect: 2,5,6 (3 of 5); false alarm: image 1
    assert b["defect_recall"] == pytest.approx(3 / 5)
    assert b["defect_precision"] == pytest.approx(3 / 4)
    assert b["normal_recall"] == pytest.approx(2 / 3)
    assert b["confusion_matrix"] == [[2, 1], [2, 3]]


def test_binary_threshold_and_single_class():
    b = binary_metrics(np.array([1, 1]), np.array([0.4, 0.6]), threshold=0.5)
    assert b["defect_recall"] == 0.5 and b["roc_auc"] is None


def test_roc_auc_perfect_and_absent_class():
    labels = np.array([0, 1, 2, 3, 0, 1, 2, 3])  # no resin overflow
    m = classification_metrics(labels, _one_hot(labels), NAMES)
    assert m["roc_auc"] == pytest.approx(1.0)
    assert m["macro_f1"] == pytest.approx(1.0)  # the absent class does not count as a zero
    with pytest.raises(ValueError, match="probs must have shape"):
        classification_metrics(labels, np.zeros((8, 3)), NAMES)


def test_ece_hand_value():
    # two bins used: conf 0.9 (2 images, 1 correct) and conf 0.6 (2 images, 2 correct)
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    labels = np.array([0, 1, 0, 1])
    expected = 0.5 * abs(0.5 - 0.9) + 0.5 * abs(1.0 - 0.6)
    assert expected_calibration_error(probs, labels, n_bins=10) == pytest.approx(expected)


def test_temperature_scaling_softens_overconfidence():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 2000)
    logits = rng.normal(size=(2000, 5))
    correct = rng.random(2000) < 0.7
    logits[np.arange(2000), np.where(correct, labels, (labels + 1) % 5)] += 3.0
    logits *= 4.0  # far too confident for 70 % accuracy
    t = fit_temperature(logits, labels)
    assert t > 2.0
    before = expected_calibration_error(softmax_with_temperature(logits), labels)
    after = expected_calibration_error(softmax_with_temperature(logits, t), labels)
    assert after < before / 2
    assert (softmax_with_temperature(logits, t).argmax(1) == logits.argmax(1)).all()


def test_temperature_bias_recovers_a_known_prior_shift():
    # labels drawn from softmax(z / 2 + b): the fit must find T ~ 2 and b ~ b_true (last class 0)
    rng = np.random.default_rng(1)
    n, true_t, true_b = 20000, 2.0, np.array([1.0, -0.5, 0.8, 0.0])
    logits = rng.normal(scale=3.0, size=(n, 4))
    scaled = logits / true_t + true_b
    p = np.exp(scaled - scaled.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    labels = (p.cumsum(1) > rng.random((n, 1))).argmax(1)
    t, b = fit_temperature_bias(logits, labels)
    assert t == pytest.approx(true_t, rel=0.08)
    np.testing.assert_allclose(b, true_b, atol=0.1)
    calibrated = fit_calibration(logits, labels, "temperature_bias")
    assert calibrated.temperature == pytest.approx(t) and calibrated.bias == pytest.approx(tuple(b))
    plain = fit_calibration(logits, labels, "temperature")
    assert plain.bias is None
    nll = lambda probs: -np.log(probs[np.arange(n), labels]).mean()  # noqa: E731
    assert nll(calibrated.probabilities(logits)) < nll(plain.probabilities(logits)) - 0.02


def test_temperature_bias_leaves_an_absent_class_alone():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(500, 3))
    labels = rng.integers(1, 3, 500)  # class 0 never seen
    _, b = fit_temperature_bias(logits, labels)
    assert b[0] == 0.0 and b[2] == 0.0
    assert fit_temperature_bias(np.zeros((0, 3)), np.zeros(0, int)) == (1.0, pytest.approx(np.zeros(3)))
    with pytest.raises(ValueError, match="unknown calibration"):
        fit_calibration(logits, labels, "isotonic")
