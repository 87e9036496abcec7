"""Softmax calibration stored in a classifier's card: a temperature and an optional class bias.

Training fits it on validation data (``training.metrics.calibration``); every consumer of a
checkpoint (the inspector's predictors on either runtime, ``evaluate``) turns logits into
probabilities through :class:`SoftmaxCalibration`, so the two can never disagree.

The class bias corrects the prior a class-balanced sampler teaches: a model that saw every class
equally often believes in a uniform prior, while the validation data carries the real one
(bias-corrected temperature scaling, Alexandari et al., 2020).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import CheckpointError

__all__ = ["SoftmaxCalibration"]


@dataclass(frozen=True)
class SoftmaxCalibration:
    """``softmax(logits / temperature + bias)``.

    Args:
        temperature: Positive divisor of the logits.
        bias: Per-class offset added after the division (``None`` = no offset).
    """

    temperature: float = 1.0
    bias: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.temperature) or self.temperature <= 0:
            raise CheckpointError(f"the softmax temperature must be positive, got {self.temperature}")
        if self.bias is not None and not np.all(np.isfinite(self.bias)):
            raise CheckpointError("the class bias of the checkpoint card is not finite")

    @classmethod
    def from_card(cls, card: Mapping[str, Any], num_classes: int) -> SoftmaxCalibration:
        """The calibration a card stores (``temperature``, ``class_bias``); identity when absent.

        Raises:
            CheckpointError: A non-positive temperature, or a class bias that is not one finite
                number per class.
        """
        try:
            temperature = float(card.get("temperature") or 1.0)
        except (TypeError, ValueError):
            raise CheckpointError(f"the card's temperature is not a number: {card.get('temperature')!r}") from None
        raw = card.get("class_bias")
        bias = None
        if raw is not None:
            try:
                bias = tuple(float(b) for b in raw)
            except (TypeError, ValueError):
                raise CheckpointError("the card's class_bias must be a list of numbers") from None
            if len(bias) != num_classes:
                raise CheckpointError(f"the card's class_bias has {len(bias)} values for {num_classes} classes")
        return cls(temperature, bias)

    def card_fields(self) -> dict[str, Any]:
        """``{"temperature", "class_bias"}`` as stored in a card (``class_bias`` may be ``None``)."""
        return {"temperature": float(self.temperature), "class_bias": None if self.bias is None else list(self.bias)}

    def logits(self, logits: np.ndarray | Sequence[float]) -> np.ndarray:
        """Calibrated logits (classes on the last axis), float64."""
        scaled = np.asarray(logits, dtype=np.float64) / self.temperature
        if self.bias is not None:
            scaled = scaled + np.asarray(self.bias, dtype=np.float64)
        return scaled

    def probabilities(self, logits: np.ndarray | Sequence[float]) -> np.ndarray:
        """Calibrated class probabilities (classes on the last axis), float64."""
        scaled = self.logits(logits)
        scaled = scaled - scaled.max(axis=-1, keepdims=True)
        exp = np.exp(scaled)
        return exp / exp.sum(axis=-1, keepdims=True)
