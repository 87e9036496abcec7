"""CT slice predictor: classifier + calibrated probabilities + attention map + boxes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from core.calibration import SoftmaxCalibration
from core.errors import CheckpointError, InputError
from core.window import uncrop_boxes, uncrop_map
from inspector.explain import boxes_from_map, create_explainer, rescale_boxes
from inspector.predictors.base import DefectProbability, Predictor, register_predictor
from inspector.predictors.ct_detail import DetailPass, to_family
from inspector.review import FeatureDensity, ReviewPolicy, model_review_reasons

log = logging.getLogger(__name__)

__all__ = ["BATTERY_TYPES", "AXES", "CTPrediction", "CTPredictor", "encode_meta", "is_normal_class"]

BATTERY_TYPES: tuple[str, ...] = ("cell", "module")
AXES: tuple[str, ...] = ("x", "y")


def is_normal_class(name: str) -> bool:
    """``cell_normal``, ``module_normal`` and ``normal`` are normal; every other class is a defect."""
    return name == "normal" or name.endswith("_normal")


def defect_type(name: str) -> str:
    """``module_porosity`` -> ``porosity``; ``module_resin_overflow`` -> ``resin_overflow``."""
    for prefix in ("cell_", "module_"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def encode_meta(battery_type: str | None, axis: str | None) -> torch.Tensor | None:
    """``[battery_type (cell=0, module=1), axis (x=0, y=1)]`` as FloatTensor[1, 2], or ``None``.

    Raises:
        InputError: If only one of the two is given, or a value is not one of the known ones.
    """
    if battery_type is None and axis is None:
        return None
    if battery_type not in BATTERY_TYPES:
        raise InputError(f"battery type must be one of {', '.join(BATTERY_TYPES)}, not {battery_type!r}")
    if axis not in AXES:
        raise InputError(f"CT axis must be one of {', '.join(AXES)}, not {axis!r}")
    return torch.tensor([[BATTERY_TYPES.index(battery_type), AXES.index(axis)]], dtype=torch.float32)


@dataclass
class CTPrediction(DefectProbability):
    """What the CT side of an inspection says.

    Attributes:
        label: Predicted class (a defect class when ``is_defect``, a normal class otherwise).
        probabilities: Temperature-scaled class probabilities by class name.
        is_defect: ``defect_probability >= threshold``.
        confidence: Probability of the decision taken (defect or normal).
        defect_probability: Summed probability of the defect classes.
        threshold: The decision threshold on ``defect_probability``.
        boxes: Defect boxes in input-image pixels (empty when normal).
        attention: Attention map ``[H, W]`` in ``[0, 1]`` at the input image size.
        explained_class: The class the attention map explains.
        explainer: Name of the explanation method.
    """

    label: str
    probabilities: dict[str, float]
    is_defect: bool
    confidence: float
    defect_probability: float
    threshold: float
    boxes: list[dict] = field(default_factory=list)
    attention: np.ndarray | None = field(default=None, repr=False)
    explained_class: str | None = None
    ood_score: float | None = None
    review_reasons: list[str] = field(default_factory=list)
    explainer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``ct`` part of the inspection JSON (exactly the contract keys)."""
        return {
            "label": self.label,
            "probabilities": {k: round(v, 6) for k, v in self.probabilities.items()},
            "is_defect": self.is_defect,
            "confidence": round(self.confidence, 6),
            "boxes": self.boxes,
            "ood_score": None if self.ood_score is None else round(float(self.ood_score), 4),
        }


@register_predictor("ct")
class CTPredictor(Predictor):
    """Predict one CT slice with a :mod:`models.ct_cnn` classifier.

    Args:
        state_dict: Weights.
        card: Checkpoint card (``architecture``, ``model_kwargs``, ``class_names``,
            ``input_size``, ``normalisation``, optional ``temperature``, ``class_bias`` and ``threshold``).
        device: Torch device.
        threshold: Override of the defect-probability threshold (card's, else 0.5).
        explainer: Explanation method (card's ``explainer``, else ``"gradcam"``).
        box_threshold: Attention level that delimits a defect region.
        min_box_area: Smallest region kept, in pixels of the model input.
    """

    in_chans = 1
    default_explainer = "gradcam"

    def setup(self, explainer: str | None = None) -> None:
        """Read class names and softmax calibration from the card and create the explainer."""
        self.class_names: list[str] = list(self.card.get("class_names") or [])
        if not self.class_names:
            raise CheckpointError("CT checkpoint card lists no class_names")
        self.defect_index = [i for i, name in enumerate(self.class_names) if not is_normal_class(name)]
        self.calibration = SoftmaxCalibration.from_card(self.card, len(self.class_names))
        self.explainer = create_explainer(explainer or self.card.get("explainer") or self.default_explainer)
        self.uses_meta = bool(getattr(self.model, "uses_meta", True))
        self.crop = bool((self.card.get("preprocessing") or {}).get("crop"))
        review = self.card.get("review") or {}
        self.review_policy = ReviewPolicy.from_card(review)
        self.density = FeatureDensity.from_state(self.review_state, review.get("ood_threshold", float("inf")))
        self.detail = DetailPass.from_card(self.card)

    def build_model(self, card: Mapping[str, Any]) -> nn.Module:
        from models.ct_cnn import create_model

        kwargs = dict(card.get("model_kwargs") or {})
        kwargs.setdefault("num_classes", len(card.get("class_names") or []) or 5)
        kwargs.setdefault("in_chans", self.in_chans)
        return create_model(card["architecture"], **kwargs)

    def _choose(self, probabilities: torch.Tensor, threshold: float) -> tuple[bool, int, float]:
        defect_p = float(probabilities[self.defect_index].sum()) if self.defect_index else 0.0
        is_defect = defect_p >= threshold
        group = [i for i in range(len(self.class_names)) if (i in self.defect_index) == is_defect]
        best = max(group, key=lambda i: float(probabilities[i]))
        return is_defect, best, defect_p

    def calibration_input(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """The graph inputs of one slice as :meth:`predict` builds them (meta: a cell, x axis)."""
        if image.ndim != 2:
            raise InputError(f"a CT calibration image must be 2-D, got shape {image.shape}")
        inputs = {"image": self.to_tensor(self._crop(image)[0]).cpu().numpy()}
        if self.uses_meta:
            inputs["meta"] = np.zeros((1, 2), np.float32)
        return inputs

    def _crop(self, image: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int] | None]:
        """The model's view of ``image`` and its window: the training crop when the card crops."""
        if not self.crop:
            return image, None
        from core.preprocessing import OutlineCrop

        return OutlineCrop().crop(image)

    def predict(
        self,
        image: np.ndarray,
        battery_type: str | None = None,
        axis: str | None = None,
        threshold: float | None = None,
    ) -> CTPrediction:
        """Classify one CT slice and explain the decision.

        Args:
            image: CT slice, float ``[H, W]`` in ``[0, 1]`` (as :func:`core.imageio.load_image` gives).
            battery_type: ``"cell"`` or ``"module"``.
            axis: ``"x"`` or ``"y"``.
            threshold: This call's defect-probability threshold (default: :attr:`threshold`).

        Raises:
            InputError: Bad metadata or threshold, or a model that needs the metadata gets none.
        """
        threshold = self.threshold_for(threshold)
        image = np.asarray(image)
        if image.ndim != 2:
            raise InputError(f"a CT image must be a 2-D grayscale array, got shape {image.shape}")
        meta = encode_meta(battery_type, axis)
        if meta is None and self.uses_meta:
            raise InputError("this CT model needs the battery type (cell|module) and the scan axis (x|y)")
        view, window = self._crop(image)
        tensor = self.to_tensor(view)
        meta = meta.to(self.device) if meta is not None else None
        inputs = {"image": tensor.cpu().numpy()}
        if meta is not None:
            inputs["meta"] = meta.cpu().numpy()
        out = self.runner.run(inputs)
        probs = torch.from_numpy(self.calibration.probabilities(out["logits"][0])).float()
        is_defect, best, defect_p = self._choose(probs, threshold)
        explanation = self._explain(tensor, meta, out.get("activations"), target=best)
        probabilities = {name: float(p) for name, p in zip(self.class_names, probs.tolist())}
        features = torch.from_numpy(out["features"]) if out["features"].size else None
        # The review reads the whole view (its density was fitted on whole views).
        ood_score, reasons = self._review(features, probabilities, defect_p, battery_type, threshold)
        heat = explanation.heatmap
        explained = explanation.target
        if self.detail is not None and self.detail.needed(view.shape, max(self.input_hw)):
            found = self._detail_pass(view, meta, threshold, probabilities)
            if found is not None and found[1] > defect_p:
                probs, defect_p, heat, explained = found[0], found[1], found[2], found[3]
                is_defect, best, defect_p = self._choose(probs, threshold)
                probabilities = {name: float(p) for name, p in zip(self.class_names, probs.tolist())}
        label = self.class_names[best]
        boxes: list[dict] = []
        if is_defect:
            boxes = boxes_from_map(
                heat, self.box_threshold, label=defect_type(label), min_area=self.min_box_area
            )
            boxes = rescale_boxes(boxes, heat.shape, view.shape)
        attention = cv2.resize(heat, (view.shape[1], view.shape[0]), interpolation=cv2.INTER_LINEAR)
        if window is not None:  # from the battery-outline window back to the input's pixels
            boxes = uncrop_boxes(boxes, window, image.shape)
            attention = uncrop_map(attention, window, image.shape)
        return CTPrediction(
            label=label,
            probabilities=probabilities,
            is_defect=is_defect,
            confidence=defect_p if is_defect else 1.0 - defect_p,
            defect_probability=defect_p,
            threshold=threshold,
            boxes=boxes,
            attention=np.clip(attention, 0.0, 1.0),
            explained_class=self.class_names[explained],
            explainer=self.explainer.name,
            ood_score=ood_score,
            review_reasons=reasons,
        )

    def _detail_pass(
        self,
        view: np.ndarray,
        meta: torch.Tensor | None,
        threshold: float,
        whole: Mapping[str, float],
    ) -> tuple[torch.Tensor, float, np.ndarray, int] | None:
        """Classify near-native-resolution tiles of a large view (:mod:`.ct_detail`).

        Returns:
            ``(probabilities on the whole view's battery family, defect probability, attention
            map at the view's size, explained class)`` of the tile with the most defect evidence,
            or ``None`` when the view gives no tiles.
        """
        from core.preprocessing.intensity import normalise_intensity

        windowed = normalise_intensity(np.asarray(view, np.float32)[..., None], self.intensity)[..., 0]
        tiles = self.detail.tiles(windowed, max(self.input_hw))
        if not tiles:
            return None
        batch = torch.cat([self.to_tensor(t.image, intensity=False) for t in tiles])
        inputs = {"image": batch.cpu().numpy()}
        if meta is not None:
            inputs["meta"] = meta.expand(len(tiles), -1).cpu().numpy()
        out = self.runner.run(inputs)
        tile_probs = torch.from_numpy(self.calibration.probabilities(out["logits"])).float()
        family = "cell" if sum(p for n, p in whole.items() if n.startswith("cell_")) >= 0.5 else "module"
        best_p, best_i, best_probs = -1.0, 0, None
        for i, row in enumerate(tile_probs.tolist()):
            moved = to_family(dict(zip(self.class_names, row)), family)
            p = sum(moved[self.class_names[j]] for j in self.defect_index)
            if p > best_p:
                best_p, best_i, best_probs = p, i, moved
        probs = torch.tensor([best_probs[n] for n in self.class_names])
        # Explain what the tile itself saw: its most probable defect class.
        target = max(self.defect_index, key=lambda j: float(tile_probs[best_i, j])) if self.defect_index else 0
        activations = out.get("activations")
        tile_acts = activations[best_i : best_i + 1] if activations is not None else None
        explanation = self._explain(batch[best_i : best_i + 1], meta, tile_acts, target=target)
        x, y, w, h = tiles[best_i].window
        heat = np.zeros(view.shape[:2], np.float32)
        patch = cv2.resize(explanation.heatmap, (w, h), interpolation=cv2.INTER_LINEAR)
        ph, pw = heat[y : y + h, x : x + w].shape
        heat[y : y + ph, x : x + pw] = patch[:ph, :pw]
        return probs, float(best_p), heat, explanation.target

    def build_graph(self) -> Any:
        """Logits, the review features and (where the model allows) the CAM target activations."""
        from inspector.runtime.graphs import CTGraph

        return CTGraph(self.model, self.input_hw, self.in_chans, self.uses_meta)

    def _explain(
        self, tensor: torch.Tensor, meta: torch.Tensor | None, activations: np.ndarray | None, target: int
    ) -> Any:
        """The explanation of ``target``: from the graph's activations when it has them and the
        explainer is a CAM method (only the head runs in torch), else the whole model in torch."""
        from inspector.explain.base import CAMExplainer

        if activations is not None and isinstance(self.explainer, CAMExplainer):
            head = self.runner.graph.head
            size = (int(tensor.shape[-2]), int(tensor.shape[-1]))
            return self.explainer.run_on_activations(head, torch.from_numpy(activations), meta, size, target)
        return self.explainer.run(self.model, tensor, meta, target=target)

    def _review(
        self,
        features: torch.Tensor | None,
        probabilities: Mapping[str, float],
        defect_p: float,
        battery_type: str | None,
        decision_threshold: float,
    ) -> tuple[float | None, list[str]]:
        """The OOD score and the model-based review reasons (image checks run in the pipeline)."""
        ood_score = None
        if self.density is not None and features is not None:
            ood_score = float(self.density.score(features.cpu().numpy())[0])
        threshold = self.density.threshold if self.density is not None else float("inf")
        reasons = model_review_reasons(
            probabilities, defect_p, decision_threshold, ood_score, threshold, self.review_policy, self.uses_meta, battery_type
        )
        return ood_score, reasons
