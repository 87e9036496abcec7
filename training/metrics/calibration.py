"""Calibration: expected calibration error and softmax calibration fitted on validation data.

Two methods, chosen by name from config (:data:`CALIBRATION_METHODS`): ``temperature`` (one
divisor; the predicted class never changes) and ``temperature_bias`` (a divisor plus one offset
per class, which also undoes the uniform prior a class-balanced sampler teaches).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax, softmax

from core.calibration import SoftmaxCalibration

__all__ = [
    "CALIBRATION_METHODS",
    "expected_calibration_error",
    "fit_calibration",
    "fit_temperature",
    "fit_temperature_bias",
    "softmax_with_temperature",
]


def softmax_with_temperature(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Class probabilities of ``logits / temperature``."""
    return softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """ECE: confidence-vs-accuracy gap averaged over equal-width confidence bins.

    Args:
        probs: Class probabilities ``[N, C]``.
        labels: True class indices ``[N]``.
        n_bins: Number of bins over ``(0, 1]``.

    Returns:
        ``sum_b |B_b|/N * |acc(B_b) - conf(B_b)|``, in ``[0, 1]``.
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    if labels.size == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > lo) & (confidence <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def fit_temperature(
    logits: np.ndarray, labels: np.ndarray, bounds: tuple[float, float] = (0.05, 20.0)
) -> float:
    """The temperature ``T`` minimising the negative log-likelihood of ``softmax(logits / T)``.

    A one-dimensional bounded search over ``log T`` (Guo et al., 2017). ``T > 1`` softens an
    over-confident model; the predicted class never changes.

    Args:
        logits: Validation logits ``[N, C]``.
        labels: Validation labels ``[N]``.
        bounds: Search interval for ``T``.

    Returns:
        The fitted temperature (``1.0`` when there is nothing to fit on).
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size == 0:
        return 1.0

    def nll(log_t: float) -> float:
        log_p = log_softmax(logits / np.exp(log_t), axis=1)
        return float(-log_p[np.arange(labels.size), labels].mean())

    result = minimize_scalar(nll, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded")
    return float(np.exp(result.x))


def fit_temperature_bias(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Temperature ``T`` and class bias ``b`` minimising the NLL of ``softmax(logits / T + b)``.

    Bias-corrected temperature scaling (Alexandari et al., 2020). The last class's bias is fixed
    at 0 (softmax is shift invariant); a class absent from ``labels`` keeps a bias of 0 too, so
    its probability is not driven to zero by data that cannot speak for it.

    Args:
        logits: Validation logits ``[N, C]``.
        labels: Validation labels ``[N]``.

    Returns:
        ``(T, b)`` with ``b`` of shape ``[C]`` (``(1.0, zeros)`` when there is nothing to fit on).
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    n_classes = logits.shape[1] if logits.ndim == 2 else 0
    if labels.size == 0 or n_classes < 2:
        return 1.0, np.zeros(max(n_classes, 0))
    free = np.array([c for c in range(n_classes - 1) if np.any(labels == c)], dtype=np.int64)
    rows = np.arange(labels.size)

    def unpack(params: np.ndarray) -> tuple[float, np.ndarray]:
        bias = np.zeros(n_classes)
        bias[free] = params[1:]
        return float(np.exp(params[0])), bias

    def nll(params: np.ndarray) -> float:
        temperature, bias = unpack(params)
        return float(-log_softmax(logits / temperature + bias, axis=1)[rows, labels].mean())

    start = np.zeros(1 + free.size)
    start[0] = np.log(fit_temperature(logits, labels))
    bounds = [(np.log(0.05), np.log(20.0))] + [(-10.0, 10.0)] * free.size
    result = minimize(nll, start, method="L-BFGS-B", bounds=bounds)
    return unpack(result.x)


def _temperature_only(logits: np.ndarray, labels: np.ndarray) -> SoftmaxCalibration:
    return SoftmaxCalibration(fit_temperature(logits, labels))


def _temperature_and_bias(logits: np.ndarray, labels: np.ndarray) -> SoftmaxCalibration:
    temperature, bias = fit_temperature_bias(logits, labels)
    return SoftmaxCalibration(temperature, tuple(float(b) for b in bias))


#: Calibration fitted after training, by the name a config gives (``calibration: NAME``).
CALIBRATION_METHODS = {"temperature": _temperature_only, "temperature_bias": _temperature_and_bias}


def fit_calibration(logits: np.ndarray, labels: np.ndarray, method: str = "temperature") -> SoftmaxCalibration:
    """Fit the named calibration (a key of :data:`CALIBRATION_METHODS`) on validation logits.

    Raises:
        ValueError: An unknown method name.
    """
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"unknown calibration {method!r}; choose from {sorted(CALIBRATION_METHODS)}")
    return CALIBRATION_METHODS[method](logits, labels)
