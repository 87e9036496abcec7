"""The explainer interface and the class-activation-map machinery every CAM method shares.

A method overrides one function: :meth:`CAMExplainer.weights` (how to weigh the activation
channels of the target layer from their gradients). Methods that do not follow the CAM recipe
(for example a model that predicts its own attention map) subclass :class:`Explainer` and
override :meth:`Explainer.compute` instead. Everything else — the forward pass, the target
choice, resizing to the input, normalising to ``[0, 1]`` — happens here.

Explainers are stateless between calls and may be shared between threads: the hooks a CAM
method needs live only for the duration of one call, under a per-model lock.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError
from core.registry import Registry

log = logging.getLogger(__name__)

__all__ = [
    "EXPLAINERS",
    "CAMExplainer",
    "Explainer",
    "Explanation",
    "create_explainer",
    "list_explainers",
    "register_explainer",
]

EXPLAINERS: Registry[type[Explainer]] = Registry("explainer", "inspector.explain")


def register_explainer(name: str, *, priority: int = 0) -> Callable[[type[Explainer]], type[Explainer]]:
    """Class decorator that makes an explainer available to :func:`create_explainer` by ``name``."""
    return EXPLAINERS.register(name, priority=priority)


def list_explainers() -> list[str]:
    """Names of all registered explanation methods."""
    return EXPLAINERS.names()


def create_explainer(name: str, **kwargs) -> Explainer:
    """Create the explainer registered as ``name``.

    Args:
        name: Registered method name, e.g. ``"gradcam"`` or ``"gradcam_pp"``.
        **kwargs: Passed to the explainer's constructor.

    Raises:
        ConfigError: If no explainer has that name.
    """
    return EXPLAINERS.create(name, **kwargs)


@dataclass
class Explanation:
    """The result of one explained forward pass.

    Attributes:
        heatmap: ``[H, W]`` float32 map in ``[0, 1]`` at the input image size.
        logits: ``[num_classes]`` logits of the same forward pass (no second pass needed).
        target: The class index that was explained.
    """

    heatmap: np.ndarray
    logits: torch.Tensor
    target: int


class Explainer:
    """Base class: explains one image with a map of where the model looked.

    Subclasses override :meth:`compute`. Models are called as ``model(image, meta)`` when
    ``meta`` is given and ``model(image)`` otherwise, and must return logits ``[B, K]``.
    """

    name = "base"

    def explain(
        self,
        model: nn.Module,
        image: torch.Tensor,
        meta: torch.Tensor | None = None,
        target: int | Callable[[torch.Tensor], int] | None = None,
    ) -> np.ndarray:
        """Return the explanation map ``[H, W]`` in ``[0, 1]`` for one image.

        Args:
            model: The classifier (in eval mode).
            image: ``[C, H, W]`` or ``[1, C, H, W]`` normalised input.
            meta: Optional metadata ``[M]`` or ``[1, M]`` for models that take it.
            target: Class index to explain; ``None`` explains the predicted class; a callable
                ``logits [K] -> index`` chooses from the logits of the same forward pass.
        """
        return self.run(model, image, meta, target).heatmap

    def run(
        self,
        model: nn.Module,
        image: torch.Tensor,
        meta: torch.Tensor | None = None,
        target: int | Callable[[torch.Tensor], int] | None = None,
    ) -> Explanation:
        """Like :meth:`explain` but also return the logits and the explained class."""
        image = image.unsqueeze(0) if image.ndim == 3 else image
        if image.ndim != 4 or image.shape[0] != 1:
            raise ValueError(f"expected one image [C, H, W] or [1, C, H, W], got {tuple(image.shape)}")
        if meta is not None and meta.ndim == 1:
            meta = meta.unsqueeze(0)
        raw, logits, target = self.compute(model, image, meta, target)
        return Explanation(self.to_unit_map(raw, image.shape[-2:]), logits.detach()[0], target)

    def compute(
        self,
        model: nn.Module,
        image: torch.Tensor,
        meta: torch.Tensor | None,
        target: int | Callable[[torch.Tensor], int] | None,
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Compute the raw map. Override this (use :meth:`resolve_target` for ``target``).

        Returns:
            ``(raw_map [h, w] >= 0 at any resolution, logits [1, K], explained class index)``.
        """
        raise NotImplementedError

    @staticmethod
    def resolve_target(target: int | Callable[[torch.Tensor], int] | None, logits: torch.Tensor) -> int:
        """The class index to explain, given the ``[1, K]`` logits of the forward pass."""
        if target is None:
            return int(logits[0].argmax())
        if callable(target):
            return int(target(logits.detach()[0]))
        return int(target)

    @staticmethod
    def forward(model: nn.Module, image: torch.Tensor, meta: torch.Tensor | None) -> torch.Tensor:
        """Call ``model`` with or without metadata and return its logits."""
        out = model(image) if meta is None else model(image, meta)
        if isinstance(out, dict):  # multi-output models put the class logits under "logits"
            out = out["logits"]
        return out

    def to_unit_map(self, raw: torch.Tensor, size: torch.Size) -> np.ndarray:
        """Resize the raw map to the input ``size`` and min-max scale it to ``[0, 1]``.

        Override to keep an absolute scale (e.g. an attention map that already is a probability).
        A flat map becomes all zeros: nothing stands out.
        """
        raw = raw.detach().float()
        while raw.ndim < 4:
            raw = raw.unsqueeze(0)
        if tuple(raw.shape[-2:]) != tuple(size):
            raw = F.interpolate(raw, size=tuple(size), mode="bilinear", align_corners=False)
        heat = torch.nan_to_num(raw[0, 0], nan=0.0).clamp_min(0)
        lo, hi = heat.min(), heat.max()
        if float(hi - lo) < 1e-12:
            return np.zeros(tuple(size), dtype=np.float32)
        return ((heat - lo) / (hi - lo)).cpu().numpy().astype(np.float32)


_MODEL_LOCKS: weakref.WeakKeyDictionary[nn.Module, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _model_lock(model: nn.Module) -> threading.Lock:
    with _LOCKS_GUARD:
        lock = _MODEL_LOCKS.get(model)
        if lock is None:
            lock = _MODEL_LOCKS[model] = threading.Lock()
        return lock


class CAMExplainer(Explainer):
    """Class activation maps from a target layer's activations and gradients.

    The map is ``relu(sum_c w_c * A_c)`` where ``A`` are the target layer's activations and
    ``w = weights(A, dA)``. Only the gradient from the class score back to the target layer is
    computed (not through the backbone), so explaining costs little more than the forward pass.

    Args:
        target_layer: Attribute path of the hooked module (default: the model's
            ``target_layer`` attribute, which every CT model exposes).
    """

    def __init__(self, target_layer: str | None = None) -> None:
        self.target_layer = target_layer

    def weights(self, activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
        """Channel weights, broadcastable to ``activations [1, C, h, w]``. Override this."""
        raise NotImplementedError

    def _layer(self, model: nn.Module) -> nn.Module:
        if self.target_layer is not None:
            return model.get_submodule(self.target_layer)
        layer = getattr(model, "target_layer", None)
        if not isinstance(layer, nn.Module):
            raise ConfigError(f"{type(model).__name__} exposes no target_layer for {self.name}")
        return layer

    def compute(self, model, image, meta, target):
        layer = self._layer(model)
        captured: list[torch.Tensor] = []

        def keep(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            captured.append(output)

        # Hooks live on a shared module: one explained forward per model at a time.
        with _model_lock(model), torch.enable_grad():
            handle = layer.register_forward_hook(keep)
            try:
                logits = self.forward(model, image, meta)
            finally:
                handle.remove()
        if not captured or not captured[-1].requires_grad:
            raise RuntimeError(f"{self.name}: target layer produced no differentiable activation")
        activations = captured[-1]
        return self._cam(activations, logits, target)

    def _cam(
        self, activations: torch.Tensor, logits: torch.Tensor, target: int | Callable[[torch.Tensor], int] | None
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """The raw CAM of ``target`` from differentiable activations and the logits they gave."""
        target = self.resolve_target(target, logits)
        (gradients,) = torch.autograd.grad(logits[0, target], activations)
        activations = activations.detach()
        cam = (self.weights(activations, gradients) * activations).sum(dim=1, keepdim=True)
        return F.relu(cam), logits.detach(), target

    def run_on_activations(
        self,
        head: Callable[..., torch.Tensor],
        activations: torch.Tensor,
        meta: torch.Tensor | None,
        size: tuple[int, int],
        target: int | Callable[[torch.Tensor], int] | None = None,
    ) -> Explanation:
        """Explain from target-layer activations computed elsewhere (e.g. by ONNX Runtime).

        Only the head (``activations -> logits``) runs in torch, with its gradient; the result
        equals :meth:`run` on the whole model when ``activations`` are the target layer's output.

        Args:
            head: ``head(activations [1, C, h, w], meta) -> logits [1, K]``, differentiable.
            activations: The target layer's output for one image.
            meta: Metadata ``[1, M]`` for models that take it.
            size: ``(H, W)`` of the model input (the map's size).
            target: As in :meth:`run`.
        """
        leaf = activations.detach().float().clone().requires_grad_(True)
        with torch.enable_grad():
            logits = head(leaf, meta)
            raw, logits, target = self._cam(leaf, logits, target)
        return Explanation(self.to_unit_map(raw, size), logits.detach()[0], target)
