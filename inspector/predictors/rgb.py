"""RGB photo predictor: autoencoder anomaly score vs the validation threshold, error map, boxes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from core.errors import CheckpointError, InputError
from inspector.explain import boxes_from_map
from inspector.predictors.base import DefectProbability, Predictor, register_predictor

__all__ = ["RGBPrediction", "RGBPredictor"]


@dataclass
class RGBPrediction(DefectProbability):
    """What the RGB side of an inspection says.

    Attributes:
        score: Anomaly score (reconstruction error by the card's score method).
        threshold: Validation-chosen threshold; ``score > threshold`` is a defect.
        is_defect: The decision.
        defect_probability: Logistic read of the margin (0.5 at the threshold).
        boxes: Defect boxes in input-image pixels (empty when normal).
        error_map: ``[H, W]`` in ``[0, 1]`` at the input size (0.5 = worst normal pixel).
        ood_score: How far the photo's mean feature distance lies above the fitted normals
            (:func:`inspector.review.rgb_ood_score`; ``None`` for a checkpoint without those stats).
        review_reasons: ``rgb_out_of_distribution`` when ``ood_score`` exceeds the card's limit.
    """

    score: float
    threshold: float
    is_defect: bool
    defect_probability: float
    boxes: list[dict] = field(default_factory=list)
    error_map: np.ndarray | None = field(default=None, repr=False)
    ood_score: float | None = None
    review_reasons: list[str] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        """Probability of the decision taken (``rgb_confidence`` of seed 002 §3)."""
        return self.defect_probability if self.is_defect else 1.0 - self.defect_probability

    def to_dict(self) -> dict[str, Any]:
        """The ``rgb`` part of the inspection JSON (exactly the contract keys)."""
        return {
            "score": self.score,
            "threshold": self.threshold,
            "is_defect": self.is_defect,
            "confidence": round(self.confidence, 6),
            "boxes": self.boxes,
            "ood_score": None if self.ood_score is None else round(float(self.ood_score), 4),
        }


@register_predictor("rgb")
class RGBPredictor(Predictor):
    """Score one RGB photo with a :mod:`models.rgb_ae` autoencoder.

    The scoring itself (error map, score method, probability) is
    :class:`inspector.anomaly.AnomalyDetector`, the same code that chose the threshold.

    Args:
        state_dict: Weights.
        card: Checkpoint card (``threshold``, ``score_method``, ``score_stats``, ``input_size``,
            ``normalisation``).
        device: Torch device.
        threshold: Override of the card's threshold.
        box_threshold: Error-map level that delimits a defect region (0.5 = worst normal pixel).
        min_box_area: Smallest region kept, in input-image pixels.
    """

    in_chans = 3

    def setup(self) -> None:
        """Check the input size and read the score method and statistics from the card."""
        from inspector.anomaly import ScoreConfig

        if self.input_hw[0] != self.input_hw[1]:
            raise CheckpointError(f"RGB autoencoder input_size must be square, got {self.input_hw}")
        self.score_stats = self.card.get("score_stats") or {}
        try:
            self.score_config = ScoreConfig(**(self.card.get("score_method") or {}))
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"RGB checkpoint has an invalid score_method ({exc})") from exc

    def resolve_threshold(self, threshold: float | None) -> float:
        """Build the anomaly detector with ``threshold`` (else the card's) and return its threshold."""
        from core.preprocessing import RGBCrop
        from inspector.anomaly import AnomalyDetector

        self.detector = AnomalyDetector(
            self.model,
            self.score_config,
            threshold=threshold if threshold is not None else self.card.get("threshold"),
            input_size=self.input_hw[0],
            mean=self.mean.tolist(),
            std=self.std.tolist(),
            error_scale=self.score_stats.get("error_scale"),
            score_scale=self.score_stats.get("score_scale"),
            device=self.device,
            crop=RGBCrop.from_card(self.card, self.input_hw[0]),
            runtime=self.runtime,
        )
        return self.detector.threshold

    def create_runner(self) -> Any:
        """The anomaly detector's runner (its graph includes the score method and error map)."""
        return self.detector.runner

    def build_model(self, card: Mapping[str, Any]) -> nn.Module:
        from models.rgb_ae import create_model

        return create_model(card["architecture"], **(card.get("model_kwargs") or {}))

    def threshold_for(self, threshold: float | None) -> float:
        """This call's anomaly-score threshold: ``threshold`` if given (finite), else the card's.

        Raises:
            InputError: ``threshold`` is not a finite number.
        """
        if threshold is None:
            return self.threshold
        value = float(threshold)
        if not np.isfinite(value):
            raise InputError(f"the RGB threshold must be a finite number, got {threshold}")
        return value

    def predict(self, image: np.ndarray, threshold: float | None = None) -> RGBPrediction:
        """Score one RGB photo (``uint8 [H, W, 3]``, as :func:`core.imageio.load_image` gives).

        Args:
            image: The photo.
            threshold: This call's anomaly-score threshold (default: the card's or the load-time one).

        Raises:
            InputError: Not an RGB image, or a non-finite threshold.
        """
        threshold = self.threshold_for(threshold)
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InputError(f"an RGB image must be uint8 [H, W, 3], got {image.dtype} {image.shape}")
        out = self.detector.predict(image, threshold=threshold)
        boxes: list[dict] = []
        if out["is_defect"]:
            boxes = boxes_from_map(
                out["error_map"], self.box_threshold, label="anomaly", min_area=self.min_box_area
            )
        from inspector.review import rgb_ood_score

        ood_stats = (self.card.get("review") or {}).get("rgb_ood")
        ood = rgb_ood_score(out["map_mean"], ood_stats)
        reasons = ["rgb_out_of_distribution"] if ood is not None and ood > float(ood_stats.get("limit", 3.0)) else []
        return RGBPrediction(
            ood_score=ood,
            review_reasons=reasons,
            score=float(out["score"]),
            threshold=float(out["threshold"]),
            is_defect=bool(out["is_defect"]),
            defect_probability=float(out["defect_probability"]),
            boxes=boxes,
            error_map=out["error_map"],
        )
