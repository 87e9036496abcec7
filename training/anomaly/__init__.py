"""Anomaly detection with reconstruction models (seed 002 §2 and §2-1).

From pixels to a decision:

1. :func:`error_map` -- per-pixel reconstruction error ``[B, H, W]``.
2. A score method from :data:`SCORE_METHODS` chosen in :class:`ScoreConfig`: ``mean`` (the seed's
   mean error) or ``topk`` (mean of the top ``k`` percent of the smoothed map).
3. :func:`youden_threshold` -- the threshold maximising Youden's J on the *validation* split of
   normals and defects, refusing NaN/inf scores and degenerate splits.
4. :func:`binary_metrics` -- the contract's evaluation keys for ``score > threshold``.

Training-time :mod:`~training.anomaly.corruptions` turn the autoencoder into a denoising one;
:class:`RGBCrop` cuts the battery out of the photo (train and run time alike);
:class:`AnomalyDetector` is the run-time side (model + score method + threshold from a card).
"""

from training.anomaly.corruptions import (
    CORRUPTIONS,
    MASK_LEVEL,
    CorruptionConfig,
    corrupt_batch,
    register_corruption,
)
from training.anomaly.crop import RGBCrop, battery_box, resize_square
from training.anomaly.detector import AnomalyDetector
from training.anomaly.scores import (
    SCORE_METHODS,
    ScoreConfig,
    anomaly_scores,
    error_map,
    gaussian_blur,
    model_error_map,
    register_score,
)
from training.anomaly.threshold import (
    ThresholdError,
    ThresholdResult,
    binary_metrics,
    check_scores,
    defect_probability,
    youden_threshold,
)

__all__ = [
    "CORRUPTIONS",
    "MASK_LEVEL",
    "SCORE_METHODS",
    "AnomalyDetector",
    "RGBCrop",
    "CorruptionConfig",
    "ScoreConfig",
    "ThresholdError",
    "ThresholdResult",
    "anomaly_scores",
    "battery_box",
    "binary_metrics",
    "check_scores",
    "corrupt_batch",
    "defect_probability",
    "error_map",
    "gaussian_blur",
    "model_error_map",
    "register_corruption",
    "register_score",
    "resize_square",
    "youden_threshold",
]
