"""Anomaly detection with reconstruction models (seed 002 §2 and §2-1).

From pixels to a decision:

1. :func:`error_map` -- per-pixel reconstruction error ``[B, H, W]``.
2. A score method from :data:`SCORE_METHODS` chosen in :class:`ScoreConfig`: ``mean`` (the seed's
   mean error) or ``topk`` (mean of the top ``k`` percent of the smoothed map).
3. :func:`youden_threshold` -- the threshold maximising Youden's J on the *validation* split of
   normals and defects, refusing NaN/inf scores and degenerate splits.
4. :func:`binary_metrics` -- the contract's evaluation keys for ``score >= threshold``.

Training-time :mod:`~training.anomaly.corruptions` turn the autoencoder into a denoising one.
The run-time side (error maps, score methods, :class:`~inspector.anomaly.AnomalyDetector`) lives
in :mod:`inspector.anomaly`; the battery crop in :mod:`core.preprocessing`.
"""

from training.anomaly.corruptions import (
    CORRUPTIONS,
    MASK_LEVEL,
    CorruptionConfig,
    corrupt_batch,
    register_corruption,
)
from training.anomaly.threshold import (
    ThresholdError,
    ThresholdResult,
    binary_metrics,
    check_scores,
    youden_threshold,
)

__all__ = [
    "CORRUPTIONS",
    "MASK_LEVEL",
    "CorruptionConfig",
    "ThresholdError",
    "ThresholdResult",
    "binary_metrics",
    "check_scores",
    "corrupt_batch",
    "register_corruption",
    "youden_threshold",
]
