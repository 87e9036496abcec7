"""Inference graphs: each predictor's model as a module with named array inputs and outputs.

A graph is what a runtime runs and what ``python -m inspector export onnx`` writes: a torch
module whose ``forward`` takes the ``input_names`` tensors (batch first) and returns the
``output_names`` tensors, with everything after the network that can live in a graph included
(GAIN attention and localisation maps, the RGB error map and anomaly score, the CT features that
the review density reads). The batch dimension is dynamic; image sizes are the card's.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import torch
from torch import nn

from inspector.review import capture_features

__all__ = ["CTGraph", "GainGraph", "InferenceGraph", "RGBGraph"]


class InferenceGraph(nn.Module):
    """Base class: named inputs and outputs, an example batch, the device of the weights.

    Attributes:
        input_names: Names of the ``forward`` arguments, in order.
        output_names: Names of the returned tensors, in order.
        input_shapes: Shape of one sample of each input (without the batch dimension).
        int8_quantisable: Whether the ``onnx_int8`` runtime quantises this graph (a graph whose
            outputs drift too far in int8, or that gains no speed, runs in float32 there).
    """

    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()
    input_shapes: dict[str, tuple[int, ...]]
    int8_quantisable: bool = False

    @property
    def device(self) -> torch.device:
        """Device of the graph's weights."""
        for tensor in self.parameters():
            return tensor.device
        return torch.device("cpu")

    def example_inputs(self, batch: int = 1, seed: int = 0) -> tuple[torch.Tensor, ...]:
        """A random batch of every input (for export and tests)."""
        generator = torch.Generator().manual_seed(seed)
        return tuple(
            torch.randn((batch, *self.input_shapes[name]), generator=generator).to(self.device)
            for name in self.input_names
        )


class CTGraph(InferenceGraph):
    """CT classifier -> ``logits [B, K]``, ``features [B, D]`` and ``activations [B, C, h, w]``.

    ``features`` is the input of the last linear layer (what :class:`inspector.review.FeatureDensity`
    scores). ``activations`` is the Grad-CAM target layer's output when that layer is the one
    whose output :meth:`forward_head` reads; then a CAM explainer needs only the cheap head
    gradient on top of it (:meth:`inspector.explain.CAMExplainer.run_on_activations`), whatever
    runtime computed the activations. Otherwise the graph has no ``activations`` output and
    explanations run the whole model in torch.

    Args:
        model: A :class:`models.ct_cnn.CTClassifier` in eval mode.
        input_hw: ``(H, W)`` of the model input.
        in_chans: Image channels.
        uses_meta: Whether the model takes ``meta [B, 2]`` (then it is the second input).
    """

    # Convolutions dominate its time; int8 runs it ~3x faster (docs/scaling.md).
    int8_quantisable = True

    def __init__(self, model: nn.Module, input_hw: Sequence[int], in_chans: int = 1, uses_meta: bool = False) -> None:
        super().__init__()
        self.model = model
        self.uses_meta = bool(uses_meta)
        self.input_names = ("image", "meta") if self.uses_meta else ("image",)
        self.input_shapes = {"image": (in_chans, *input_hw), "meta": (2,)}
        self.activations_out = _target_layer_is_features_output(model, self.example_inputs()[0])
        self.output_names = ("logits", "features") + (("activations",) if self.activations_out else ())
        self._lock = threading.RLock()  # the feature hook lives on a shared layer: one head at a time

    def head(self, activations: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        """Logits from the target layer's activations (differentiable; used by CAM explainers)."""
        with self._lock:
            return self.model.forward_head(activations, meta if self.uses_meta else None)

    def forward(self, image: torch.Tensor, meta: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        with self._lock:
            activations = self.model.forward_features(image)
            with capture_features(self.model) as seen:
                logits = self.head(activations, meta)
        features = seen.features if seen.features is not None else logits.new_zeros((logits.shape[0], 0))
        return (logits, features) + ((activations,) if self.activations_out else ())


def _target_layer_is_features_output(model: nn.Module, image: torch.Tensor) -> bool:
    """Whether the Grad-CAM target layer's output is exactly what ``forward_features`` returns."""
    layer = getattr(model, "target_layer", None)
    if not isinstance(layer, nn.Module) or not hasattr(model, "forward_features"):
        return False
    seen: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda _m, _i, out: seen.append(out))
    try:
        with torch.no_grad():
            out = model.forward_features(image)
    finally:
        handle.remove()
    return bool(seen) and seen[-1] is out


class GainGraph(InferenceGraph):
    """GAIN-MTL -> ``defect_logit [B]``, ``attention [B, 1, H, W]``, ``localisation [B, 1, H, W]``.

    Both maps are at the model input size, as :class:`inspector.predictors.GainPredictor` uses them.
    """

    output_names = ("defect_logit", "attention", "localisation")
    input_names = ("image",)

    def __init__(self, model: nn.Module, input_hw: Sequence[int], in_chans: int = 1) -> None:
        super().__init__()
        self.model = model
        self.size = (int(input_hw[0]), int(input_hw[1]))
        self.input_shapes = {"image": (in_chans, *self.size)}

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.model(image)
        return (
            self.model.defect_logit(out),
            self.model.attention(out, self.size),
            self.model.localisation(out, self.size),
        )


class RGBGraph(InferenceGraph):
    """RGB anomaly model -> ``score [B]`` and smoothed ``error_map [B, S, S]`` (model resolution).

    The input is the normalised crop (as :meth:`inspector.anomaly.AnomalyDetector.preprocess`
    gives); the score method of the card (``mean`` / ``topk``, Gaussian smoothing) is part of
    the graph.

    Args:
        model: Reconstruction model (or one with a learned ``anomaly_map``).
        score: The card's :class:`inspector.anomaly.ScoreConfig`.
        input_size: Square input side ``S``.
        mean: Per-channel normalisation mean.
        std: Per-channel normalisation std.
    """

    input_names = ("image",)
    output_names = ("score", "error_map")

    def __init__(
        self, model: nn.Module, score: object, input_size: int, mean: Sequence[float], std: Sequence[float]
    ) -> None:
        super().__init__()
        self.model = model
        self.score = score
        self.input_shapes = {"image": (3, int(input_size), int(input_size))}
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))

    @property
    def device(self) -> torch.device:
        """Device of the graph's weights and normalisation buffers."""
        return self.mean.device

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        from inspector.anomaly.scores import anomaly_scores, error_map, gaussian_blur

        if hasattr(self.model, "anomaly_map"):
            errors = self.model.anomaly_map(image)
        else:
            errors = error_map(image * self.std + self.mean, self.model(image) * self.std + self.mean, self.score.metric)
        return anomaly_scores(errors, self.score), gaussian_blur(errors, self.score.smooth_sigma)
