"""When a verdict needs a person: image-quality checks, feature-space density, metadata, margins.

A model trained on batteries answers every input with a battery class. This module decides
when that answer must not be trusted and returns *review reasons*, short stable codes that the
inspection JSON carries in ``review_reasons`` (the UI translates them, :mod:`inspector.i18n`):

==============================  ==========================================================
code                            fires when
==============================  ==========================================================
``ct_nonfinite_pixels``         the decoded file held NaN or infinite samples
``ct_blank_image``              (almost) no contrast: blank, all-zero, all-max
``ct_noise_like``               neighbouring pixels are uncorrelated: noise, not a scan
``ct_colour_photo``             the file is a colour picture, not a grey CT slice
``ct_out_of_distribution``      the model's features lie far from every training class
``ct_metadata_contradiction``   the image contradicts the battery type / axis given
``ct_low_margin``               the calibrated defect probability is close to the threshold
``rgb_blank_image``             an RGB photo without contrast
``rgb_noise_like``              neighbouring pixels of the photo are uncorrelated: noise
``rgb_grey_image``              the "photo" has no colour at all (e.g. a CT slice sent as RGB)
``rgb_out_of_distribution``     the detector's features lie far outside the fitted normals
==============================  ==========================================================

The feature-space check (:class:`FeatureDensity`) is a class-conditional Gaussian with one
shared covariance (Mahalanobis distance, Lee et al. 2018) on the input of the classifier's last
linear layer; its threshold is fitted on validation data and stored with the checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

__all__ = [
    "REVIEW_REASONS",
    "FeatureDensity",
    "ReviewPolicy",
    "capture_features",
    "image_quality_reasons",
    "metadata_reasons",
    "model_review_reasons",
    "rgb_ood_score",
    "split_review_state",
]

REVIEW_REASONS: tuple[str, ...] = (
    "ct_nonfinite_pixels",
    "ct_blank_image",
    "ct_noise_like",
    "ct_colour_photo",
    "ct_out_of_distribution",
    "ct_metadata_contradiction",
    "ct_low_margin",
    "rgb_blank_image",
    "rgb_noise_like",
    "rgb_grey_image",
    "rgb_out_of_distribution",
)

STATE_PREFIX = "review."


@dataclass(frozen=True)
class ReviewPolicy:
    """Thresholds of the image checks and of the margin rule (the card's ``review`` block).

    Attributes:
        min_contrast: Smallest 1st-99th percentile spread of a usable slice (intensity units).
        min_correlation: Smallest neighbour correlation of a scan after 2x area downsampling;
            white noise gives ~0, reconstructed CT far above 0.5 even with heavy noise.
        max_colour: Largest mean chroma (max - min channel, ``[0, 1]``) of a grey scan.
        low_margin: Defect probabilities within this distance of the threshold are flagged.
        metadata_confidence: Image-based battery-type probability above which metadata that
            says otherwise is called a contradiction.
    """

    min_contrast: float = 0.02
    min_correlation: float = 0.3
    max_colour: float = 0.04
    low_margin: float = 0.3
    metadata_confidence: float = 0.95

    @classmethod
    def from_card(cls, block: Mapping[str, Any] | None) -> ReviewPolicy:
        """The policy stored in a card's ``review`` block (defaults for missing keys)."""
        block = block or {}
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: float(v) for k, v in block.items() if k in names})


def _neighbour_correlation(image: np.ndarray) -> float:
    """Mean correlation of horizontally and vertically adjacent pixels after 2x area downsampling."""
    small = cv2.resize(image, (max(image.shape[1] // 2, 2), max(image.shape[0] // 2, 2)), interpolation=cv2.INTER_AREA)
    small = small.astype(np.float64)
    values = []
    for a, b in ((small[:, :-1], small[:, 1:]), (small[:-1], small[1:])):
        a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
        denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
        values.append(float((a * b).sum()) / denom if denom > 0 else 0.0)
    return float(np.mean(values))


def image_quality_reasons(
    image: np.ndarray, policy: ReviewPolicy, info: Mapping[str, Any] | None = None, prefix: str = "ct"
) -> list[str]:
    """Review reasons that the pixels alone give, before any model runs.

    Args:
        image: Float ``[H, W]`` in ``[0, 1]`` (CT) or ``uint8 [H, W, 3]`` (RGB).
        policy: Thresholds.
        info: What decoding saw (:attr:`core.imageio.DecodedImage.info`): ``nonfinite_fraction``,
            ``colour`` (mean chroma of the file before it became grey).
        prefix: ``ct`` or ``rgb``, the prefix of the reason codes.

    Returns:
        Reason codes, possibly empty.
    """
    info = info or {}
    reasons: list[str] = []
    grey = np.asarray(image, dtype=np.float32)
    if grey.ndim == 3:
        grey = grey.mean(axis=2) / (255.0 if np.asarray(image).dtype == np.uint8 else 1.0)
    if prefix == "ct" and float(info.get("nonfinite_fraction") or 0.0) > 0.0:
        reasons.append("ct_nonfinite_pixels")
    finite = grey[np.isfinite(grey)]
    lo, hi = np.percentile(finite, [1, 99]) if finite.size else (0.0, 0.0)
    if hi - lo < policy.min_contrast:
        reasons.append(f"{prefix}_blank_image")
        return reasons
    if _neighbour_correlation(np.nan_to_num(grey)) < policy.min_correlation:
        reasons.append(f"{prefix}_noise_like")
    if prefix == "ct" and float(info.get("colour") or 0.0) > policy.max_colour:
        reasons.append("ct_colour_photo")
    if prefix == "rgb" and np.asarray(image).ndim == 3 and _chroma(np.asarray(image)) < policy.max_colour:
        reasons.append("rgb_grey_image")
    return reasons


def _chroma(image: np.ndarray) -> float:
    """Mean chroma (max - min channel) of an ``[H, W, 3]`` image, in ``[0, 1]``."""
    scale = 255.0 if image.dtype == np.uint8 else 1.0
    pixels = image.astype(np.float32) / scale
    return float((pixels.max(axis=2) - pixels.min(axis=2)).mean())


def rgb_ood_score(map_mean: float, stats: Mapping[str, Any] | None) -> float | None:
    """How far a photo's mean feature distance lies above the fitted normals (``rgb.ood_score``).

    Args:
        map_mean: Mean of the detector's raw anomaly map over the photo (a defect raises a few
            patches; an object unlike any battery raises all of them).
        stats: The card's ``review.rgb_ood`` block: median and 99th percentile of that mean over
            the held-out normals of ``fit rgb``.

    Returns:
        ``(map_mean - p50) / (p99 - p50)``: about 1 or less for normals; ``None`` without stats.
    """
    if not stats:
        return None
    p50, p99 = float(stats["normal_mean_p50"]), float(stats["normal_mean_p99"])
    spread = max(p99 - p50, 1e-6 * max(abs(p50), 1.0))
    return (float(map_mean) - p50) / spread


def metadata_reasons(
    probabilities: Mapping[str, float], battery_type: str | None, policy: ReviewPolicy
) -> list[str]:
    """``ct_metadata_contradiction`` when the image is surely another battery type than given.

    The image's battery type is read from the class probabilities (``cell_*`` vs ``module_*``),
    which only means something for a model that does not take the metadata as input.
    """
    if battery_type not in ("cell", "module"):
        return []
    other = "module" if battery_type == "cell" else "cell"
    p_other = sum(p for name, p in probabilities.items() if name.startswith(other + "_"))
    return ["ct_metadata_contradiction"] if p_other >= policy.metadata_confidence else []


def model_review_reasons(
    probabilities: Mapping[str, float],
    defect_probability: float,
    threshold: float,
    ood_score: float | None,
    ood_threshold: float,
    policy: ReviewPolicy,
    uses_meta: bool,
    battery_type: str | None,
) -> list[str]:
    """The review reasons that a CT model's outputs give (the predictor and evaluation share it).

    Args:
        probabilities: Calibrated class probabilities by class name.
        defect_probability: Summed probability of the defect classes.
        threshold: Decision threshold on ``defect_probability``.
        ood_score: :meth:`FeatureDensity.score` of the slice, or ``None`` without a density.
        ood_threshold: Scores above it are out of distribution.
        policy: Margin and metadata thresholds.
        uses_meta: Whether the model reads the metadata (then it cannot contradict it).
        battery_type: The battery type given with the slice.
    """
    reasons: list[str] = []
    if ood_score is not None and ood_score > ood_threshold:
        reasons.append("ct_out_of_distribution")
    if not uses_meta:
        reasons += metadata_reasons(probabilities, battery_type, policy)
    if abs(defect_probability - threshold) < policy.low_margin:
        reasons.append("ct_low_margin")
    return reasons


def last_linear(model: nn.Module) -> nn.Linear | None:
    """The classifier's final linear layer (whose input is the feature vector), if any."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


class capture_features:  # noqa: N801  (used as a context manager, reads like a function)
    """Context manager recording the input of a model's last linear layer on every forward.

    Example::

        with capture_features(model) as seen:
            model(x)
        features = seen.features  # FloatTensor[B, D]
    """

    def __init__(self, model: nn.Module) -> None:
        self.layer = last_linear(model)
        self.features: torch.Tensor | None = None
        self._handle = None

    def __enter__(self) -> capture_features:
        if self.layer is not None:
            self._handle = self.layer.register_forward_pre_hook(self._hook)
        return self

    def _hook(self, module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        self.features = inputs[0].detach().float().reshape(inputs[0].shape[0], -1)

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.remove()


@dataclass
class FeatureDensity:
    """Class-conditional Gaussians with one shared covariance over classifier features.

    Attributes:
        means: Class means ``[K, D]``.
        precision: Inverse of the shared (shrunk) covariance ``[D, D]``.
        threshold: Scores above this are out of distribution (``inf`` until fitted).
    """

    means: np.ndarray
    precision: np.ndarray
    threshold: float = float("inf")
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray) -> FeatureDensity:
        """Fit means per class and a Ledoit-Wolf shrunk shared covariance.

        Args:
            features: ``[N, D]`` training features.
            labels: ``[N]`` class indices; classes without samples are skipped.
        """
        from sklearn.covariance import LedoitWolf

        features = np.asarray(features, np.float64)
        labels = np.asarray(labels)
        classes = [c for c in np.unique(labels)]
        means = np.stack([features[labels == c].mean(axis=0) for c in classes])
        centred = np.concatenate([features[labels == c] - means[i] for i, c in enumerate(classes)])
        precision = LedoitWolf().fit(centred).precision_
        return cls(means.astype(np.float32), precision.astype(np.float32))

    def score(self, features: np.ndarray | torch.Tensor) -> np.ndarray:
        """Squared Mahalanobis distance to the nearest class mean, divided by the dimension."""
        f = np.asarray(features, np.float64).reshape(-1, self.means.shape[1])
        diffs = f[:, None, :] - self.means[None].astype(np.float64)  # [N, K, D]
        d2 = np.einsum("nkd,de,nke->nk", diffs, self.precision.astype(np.float64), diffs)
        return d2.min(axis=1) / self.means.shape[1]

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors to store next to the model weights (keys start with ``review.``)."""
        return {
            STATE_PREFIX + "means": torch.from_numpy(np.ascontiguousarray(self.means, np.float32)),
            STATE_PREFIX + "precision": torch.from_numpy(np.ascontiguousarray(self.precision, np.float32)),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, torch.Tensor], threshold: float) -> FeatureDensity | None:
        """Rebuild from :meth:`state_dict` tensors, or ``None`` when the checkpoint has none."""
        if STATE_PREFIX + "means" not in state or STATE_PREFIX + "precision" not in state:
            return None
        return cls(
            state[STATE_PREFIX + "means"].float().numpy(),
            state[STATE_PREFIX + "precision"].float().numpy(),
            float(threshold),
        )


def split_review_state(
    state_dict: Mapping[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """``(model weights, review tensors)`` of a checkpoint's tensors."""
    model, review = {}, {}
    for key, value in state_dict.items():
        (review if key.startswith(STATE_PREFIX) else model)[key] = value
    return model, review
