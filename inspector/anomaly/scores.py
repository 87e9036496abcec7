"""Reconstruction error maps and the score methods that turn a map into one anomaly score.

Score methods are registered by name (:func:`register_score`, a :class:`core.registry.Registry`;
a new method may live in a new module of :mod:`inspector.anomaly`) and chosen in
:class:`ScoreConfig`: ``mean`` is the seed's mean reconstruction error; ``topk`` averages the top
``k`` percent of the Gaussian-smoothed map, so a small defect is not diluted over the image;
``topk_relative`` subtracts the photo's own mean level from that, so a photo that is unfamiliar
everywhere (another colour, light or camera) does not score like one with a local defect.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from core.registry import Registry

__all__ = [
    "SCORE_METHODS",
    "ScoreConfig",
    "anomaly_scores",
    "error_map",
    "gaussian_blur",
    "mean_score",
    "model_error_map",
    "register_score",
    "topk_relative_score",
    "topk_score",
]


def error_map(image: torch.Tensor, reconstruction: torch.Tensor, metric: str = "mse") -> torch.Tensor:
    """Per-pixel reconstruction error.

    Args:
        image: Input batch ``[B, C, H, W]``.
        reconstruction: Model output of the same shape.
        metric: ``"mse"`` (squared error) or ``"l1"`` (absolute error).

    Returns:
        ``[B, H, W]`` error, averaged over channels.
    """
    if image.shape != reconstruction.shape:
        raise ValueError(
            f"image {tuple(image.shape)} and reconstruction {tuple(reconstruction.shape)} differ"
        )
    diff = image - reconstruction
    if metric == "mse":
        return diff.pow(2).mean(dim=1)
    if metric == "l1":
        return diff.abs().mean(dim=1)
    raise ValueError(f"unknown error metric {metric!r}; expected 'mse' or 'l1'")


def model_error_map(model: torch.nn.Module, images: torch.Tensor, metric: str = "mse") -> torch.Tensor:
    """The error map a model's anomaly score is computed from, ``[B, H, W]``.

    A model with a learned error map (an ``anomaly_map(x)`` method, e.g. DRAEM's discriminative
    head) provides it; any other reconstruction model gets :func:`error_map` of its output.
    """
    if hasattr(model, "anomaly_map"):
        return model.anomaly_map(images)
    return error_map(images, model(images), metric)


def gaussian_blur(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Smooth ``[B, H, W]`` maps with a separable Gaussian (reflect padding); ``sigma <= 0`` is a no-op."""
    if sigma <= 0:
        return maps
    radius = max(1, int(math.ceil(3 * sigma)))
    coords = torch.arange(-radius, radius + 1, dtype=maps.dtype, device=maps.device)
    kernel = torch.exp(-(coords**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    x = maps.unsqueeze(1)
    pad_h = min(radius, int(x.shape[-2]) - 1)  # int(): sizes are constants in an exported graph
    pad_w = min(radius, int(x.shape[-1]) - 1)
    x = F.pad(x, (pad_w, pad_w, pad_h, pad_h), mode="reflect")
    kh = kernel[radius - pad_h : radius + pad_h + 1].view(1, 1, -1, 1)
    kw = kernel[radius - pad_w : radius + pad_w + 1].view(1, 1, 1, -1)
    x = F.conv2d(F.conv2d(x, kh / kh.sum()), kw / kw.sum())
    return x.squeeze(1)


# --------------------------------------------------------------------------------------------------
# image scores

ScoreFn = Callable[..., torch.Tensor]
#: Score methods by name: ``fn(error_map[B, H, W], config) -> scores[B]``. A new method is a
#: ``@register_score("name")`` function here or in a new module of :mod:`inspector.anomaly`.
SCORE_METHODS: Registry[ScoreFn] = Registry("score method", "inspector.anomaly", attribute=None)


def register_score(name: str, *, priority: int = 0) -> Callable[[ScoreFn], ScoreFn]:
    """Register ``fn(error_map[B, H, W], config) -> scores[B]`` under ``name``."""
    return SCORE_METHODS.register(name, priority=priority)


@dataclass
class ScoreConfig:
    """How an error map becomes one anomaly score.

    Attributes:
        method: A key of :data:`SCORE_METHODS` (``mean``, ``topk`` or ``topk_relative``).
        metric: Pixel error, ``mse`` or ``l1``.
        topk_fraction: Share of the highest (smoothed) pixels averaged by ``topk``.
        smooth_sigma: Gaussian sigma in pixels (at model resolution) applied before ``topk``
            and to the error maps shown to users.
    """

    method: str = "topk"
    metric: Literal["mse", "l1"] = "mse"
    topk_fraction: float = 0.01
    smooth_sigma: float = 2.0

    def __post_init__(self) -> None:
        if self.method not in SCORE_METHODS:
            raise ValueError(
                f"unknown score method {self.method!r}; known: {', '.join(SCORE_METHODS.names())}"
            )
        if not 0.0 < self.topk_fraction <= 1.0:
            raise ValueError(f"topk_fraction must be in (0, 1], got {self.topk_fraction}")
        if self.smooth_sigma < 0:
            raise ValueError(f"smooth_sigma must not be negative, got {self.smooth_sigma}")


@register_score("mean")
def mean_score(errors: torch.Tensor, config: ScoreConfig) -> torch.Tensor:
    """The seed's score: mean reconstruction error over the image."""
    return errors.flatten(1).mean(dim=1)


def _smoothed_topk(errors: torch.Tensor, config: ScoreConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """``(smoothed maps flattened [B, H*W], mean of their top topk_fraction pixels [B])``."""
    flat = gaussian_blur(errors, config.smooth_sigma).flatten(1)
    k = max(1, int(round(config.topk_fraction * int(flat.shape[1]))))
    return flat, flat.topk(k, dim=1).values.mean(dim=1)


@register_score("topk")
def topk_score(errors: torch.Tensor, config: ScoreConfig) -> torch.Tensor:
    """Mean of the top ``topk_fraction`` pixels of the smoothed error map."""
    return _smoothed_topk(errors, config)[1]


@register_score("topk_relative")
def topk_relative_score(errors: torch.Tensor, config: ScoreConfig) -> torch.Tensor:
    """``topk`` minus the mean of the same smoothed map: how far the worst region stands out.

    A feature detector fitted on one line's normals scores every patch of a photo from an unseen
    product variant high; a defect raises a small region above the photo's own level. The mean
    (not the median) keeps the graph exportable to ONNX; a defect of a few percent of the photo
    barely moves it.
    """
    flat, top = _smoothed_topk(errors, config)
    return top - flat.mean(dim=1)


def anomaly_scores(errors: torch.Tensor, config: ScoreConfig) -> torch.Tensor:
    """Scores ``[B]`` of error maps ``[B, H, W]`` by the method named in ``config``."""
    return SCORE_METHODS[config.method](errors, config)
