"""Run-time anomaly detection on RGB photos: error maps, score methods and the detector.

:class:`AnomalyDetector` loads a reconstruction model with its score method and threshold from a
checkpoint card; training (``training.anomaly``) fits the threshold and reuses the same scoring,
so evaluation and inspection cannot drift apart.
"""

from inspector.anomaly.detector import AnomalyDetector, defect_probability
from inspector.anomaly.scores import (
    SCORE_METHODS,
    ScoreConfig,
    anomaly_scores,
    error_map,
    gaussian_blur,
    model_error_map,
    register_score,
)

__all__ = [
    "SCORE_METHODS",
    "AnomalyDetector",
    "ScoreConfig",
    "anomaly_scores",
    "defect_probability",
    "error_map",
    "gaussian_blur",
    "model_error_map",
    "register_score",
]
