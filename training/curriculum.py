"""Training-progress schedules of GAIN-MTL: the GT-mask curriculum and loss-weight warm-ups.

``progress`` is the fraction of training done, in ``[0, 1]`` (the Trainer passes
``epoch_progress``).

GT-mask curriculum (seed 001, S6 and S8): during training the attention that attention mining
erases is fused multiplicatively with the ground-truth mask ``g`` at rate ``alpha``::

    A_fused = A * ((1 - alpha) + alpha * g)
    alpha(p) = alpha_start * max(0, 1 - p / end_ratio)

so ``alpha`` decays linearly from ``alpha_start`` (0.5) to 0 at ``end_ratio`` (70 %) of training;
from then on (and always at inference) no mask is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def linear_warmup(weight: float, warmup: float, progress: float) -> float:
    """Loss weight ramped linearly from 0 to ``weight`` over the first ``warmup`` of training.

    Args:
        weight: Final weight (``lambda``).
        warmup: Fraction of training of the ramp; 0 applies ``weight`` from the start.
        progress: Fraction of training done.
    """
    if warmup <= 0:
        return float(weight)
    return float(weight) * min(1.0, max(0.0, progress) / warmup)


@dataclass(frozen=True)
class MaskCurriculum:
    """Multiplicative fusion of the attention with the GT mask, decaying to nothing.

    Attributes:
        alpha_start: Fusion rate at the start of training; 0 disables the curriculum.
        end_ratio: Fraction of training at which ``alpha`` reaches 0.
    """

    alpha_start: float = 0.0
    end_ratio: float = 0.7

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha_start <= 1.0:
            raise ValueError(f"alpha_start must be in [0, 1], got {self.alpha_start}")
        if not 0.0 < self.end_ratio <= 1.0:
            raise ValueError(f"end_ratio must be in (0, 1], got {self.end_ratio}")

    def alpha(self, progress: float) -> float:
        """Fusion rate at ``progress``."""
        return self.alpha_start * max(0.0, 1.0 - max(0.0, progress) / self.end_ratio)

    def fuse(self, attention: torch.Tensor, mask: torch.Tensor, progress: float) -> torch.Tensor:
        """``attention * ((1 - alpha) + alpha * mask)``; the attention itself when ``alpha`` is 0."""
        alpha = self.alpha(progress)
        if alpha == 0.0:
            return attention
        return attention * ((1.0 - alpha) + alpha * mask)
