"""GAIN-MTL CT predictor: defect probability, the model's own attention, and boxes from its
localisation head.

Selected like any CT checkpoint (``ct_checkpoint`` or a ``"default": true`` card in the
checkpoints folder): the CT side of an inspection accepts cards of task ``ct`` or ``gain``.
The attention map replaces Grad-CAM; the defect boxes come from the localisation head's mask
(probability >= ``box_threshold``), not from thresholding the attention.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from core.errors import CheckpointError, InputError
from inspector.explain import boxes_from_map, rescale_boxes
from inspector.predictors.base import Predictor, register_predictor
from inspector.predictors.ct import CTPrediction, encode_meta

log = logging.getLogger(__name__)

__all__ = ["GainPredictor"]


@register_predictor("gain")
class GainPredictor(Predictor):
    """Predict one CT slice with a GAIN-MTL checkpoint.

    Args:
        state_dict: Weights.
        card: Checkpoint card (``model_kwargs``, ``class_names``, ``input_size``,
            ``normalisation``, ``threshold``).
        device: Torch device.
        threshold: Override of the card's defect-probability threshold.
        explainer: Ignored unless it names another method than ``gain_attention`` (then a
            warning): the model's own attention is the explanation.
        box_threshold: Localisation probability that delimits a defect region.
        min_box_area: Smallest region kept, in pixels of the model input.
    """

    in_chans = 1
    default_min_box_area = 2

    def setup(self, explainer: str | None = None) -> None:
        """Check the two class names; warn about an explainer other than the model's own."""
        self.class_names = list(self.card.get("class_names") or ["normal", "defect"])
        if len(self.class_names) != 2:
            raise CheckpointError("a GAIN checkpoint must have two class names (normal, defect)")
        if explainer not in (None, "gain_attention"):
            log.warning("GAIN-MTL checkpoints explain themselves; ignoring explainer %r", explainer)

    def build_model(self, card: Mapping[str, Any]) -> nn.Module:
        from models.gain_mtl import create_gain_model

        try:
            return create_gain_model(**dict(card.get("model_kwargs") or {}))
        except TypeError as exc:
            raise CheckpointError(f"GAIN checkpoint card has invalid model_kwargs: {exc}") from exc

    def build_graph(self) -> Any:
        """Defect logit, attention and localisation maps at the model input size."""
        from inspector.runtime.graphs import GainGraph

        return GainGraph(self.model, self.input_hw, self.in_chans)

    def predict(
        self,
        image: np.ndarray,
        battery_type: str | None = None,
        axis: str | None = None,
        threshold: float | None = None,
    ) -> CTPrediction:
        """Classify one CT slice, with attention map and localisation boxes.

        Args:
            image: CT slice, float ``[H, W]`` in ``[0, 1]``.
            battery_type: Optional; validated but not used by the model.
            axis: Optional; validated but not used by the model.
            threshold: This call's defect-probability threshold (default: :attr:`threshold`).

        Raises:
            InputError: A non-2-D image or invalid metadata.
        """
        threshold = self.threshold_for(threshold)
        image = np.asarray(image)
        if image.ndim != 2:
            raise InputError(f"a CT image must be a 2-D grayscale array, got shape {image.shape}")
        encode_meta(battery_type, axis)  # same validation as the other CT models
        tensor = self.to_tensor(image)
        out = self.runner.run({"image": tensor.cpu().numpy()})
        p = float(torch.sigmoid(torch.from_numpy(out["defect_logit"]))[0])
        attention, loc = out["attention"][0, 0], out["localisation"][0, 0]
        is_defect = p >= threshold
        normal, defect = self.class_names
        boxes: list[dict] = []
        if is_defect:
            boxes = boxes_from_map(loc, self.box_threshold, label=defect, min_area=self.min_box_area)
            boxes = rescale_boxes(boxes, loc.shape, image.shape)
        full = cv2.resize(attention, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
        return CTPrediction(
            label=defect if is_defect else normal,
            probabilities={normal: 1.0 - p, defect: p},
            is_defect=is_defect,
            confidence=p if is_defect else 1.0 - p,
            defect_probability=p,
            threshold=threshold,
            boxes=boxes,
            attention=np.clip(full, 0.0, 1.0).astype(np.float32),
            explained_class=defect,
            explainer="gain_attention",
        )
