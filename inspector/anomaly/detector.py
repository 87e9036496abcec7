"""Run-time anomaly detection: a trained reconstruction model, its score method and threshold."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.errors import ThresholdError
from core.preprocessing.rgb_crop import RGBCrop
from core.window import Window, uncrop_map
from inspector.anomaly.scores import ScoreConfig

__all__ = ["AnomalyDetector"]


class AnomalyDetector:
    """A trained reconstruction model plus its score method and validation threshold.

    Args:
        model: Reconstruction model ``[B, 3, S, S] -> [B, 3, S, S]`` (put in eval mode here).
        score: How error maps become scores.
        threshold: Validation-chosen threshold (``score >= threshold`` is a defect).
        input_size: Square model input side ``S``.
        mean: Per-channel normalisation mean applied to ``[0, 1]`` pixels.
        std: Per-channel normalisation std.
        error_scale: 95th percentile, over the normal validation images, of each image's peak
            (maximum) smoothed pixel error; error maps are divided by twice this, so 0.5 means
            "as bad as the worst pixel of 95 % of normal images" and boxes are drawn above it.
        score_scale: Logistic scale for :func:`defect_probability`.
        device: Torch device for inference.
        crop: How a photo becomes the model input (default: the whole photo resized, as the
            first checkpoints were trained).
        runtime: Where the scoring graph (:class:`inspector.runtime.graphs.RGBGraph`: model,
            error map, score method) runs: ``torch`` (default) or ``onnx``.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        score: ScoreConfig,
        threshold: float,
        input_size: int,
        mean: Sequence[float] = (0.0, 0.0, 0.0),
        std: Sequence[float] = (1.0, 1.0, 1.0),
        error_scale: float | None = None,
        score_scale: float | None = None,
        device: str | torch.device = "cpu",
        crop: RGBCrop | None = None,
        runtime: str | None = None,
    ) -> None:
        if threshold is None or not math.isfinite(float(threshold)):
            raise ThresholdError(f"the RGB threshold {threshold!r} is not a finite number.")
        self.model = model.to(device).eval()
        self.score = score
        self.threshold = float(threshold)
        self.input_size = int(input_size)
        self.device = torch.device(device)
        self.mean = torch.tensor(mean, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        self.error_scale = float(error_scale) if error_scale else None
        self.score_scale = float(score_scale) if score_scale else max(abs(self.threshold) * 0.1, 1e-8)
        self.crop = crop if crop is not None else RGBCrop(self.input_size, enabled=False)
        if self.crop.size != self.input_size:
            raise ValueError(
                f"crop size {self.crop.size} differs from the model input size {self.input_size}"
            )
        from inspector.runtime import create_runner
        from inspector.runtime.graphs import RGBGraph

        self.graph = RGBGraph(self.model, score, self.input_size, mean, std).to(self.device)
        self.runner = create_runner(runtime, self.graph)

    @classmethod
    def from_checkpoint(cls, path: str, device: str | torch.device = "cpu") -> AnomalyDetector:
        """Build the detector from ``NAME.safetensors`` + ``NAME.json`` (task ``rgb``).

        Raises:
            CheckpointError: Missing/unreadable checkpoint or weights that do not fit.
            ThresholdError: The card carries no finite threshold.
        """
        from core.checkpoint import load_checkpoint, load_state_dict_strict
        from models.rgb_ae import create_model

        state_dict, card = load_checkpoint(path, task="rgb")
        model = create_model(card["architecture"], **(card.get("model_kwargs") or {}))
        load_state_dict_strict(model, state_dict, card)
        model.float()
        norm = card.get("normalisation") or {}
        stats = card.get("score_stats") or {}
        return cls(
            model,
            ScoreConfig(**(card.get("score_method") or {})),
            threshold=card.get("threshold"),
            input_size=int(card["input_size"]),
            mean=norm.get("mean", (0.0, 0.0, 0.0)),
            std=norm.get("std", (1.0, 1.0, 1.0)),
            error_scale=stats.get("error_scale"),
            score_scale=stats.get("score_scale"),
            device=device,
            crop=RGBCrop.from_card(card, int(card["input_size"])),
        )

    def preprocess(self, images: Sequence[np.ndarray] | np.ndarray) -> tuple[torch.Tensor, list[Window]]:
        """uint8 ``H x W x 3`` image(s) -> normalised ``[B, 3, S, S]`` float tensor and the crop windows."""
        batch = [images] if isinstance(images, np.ndarray) and images.ndim == 3 else list(images)
        views, windows, _ = zip(*(self.crop(img) for img in batch))
        x = torch.from_numpy(np.stack(views)).permute(0, 3, 1, 2).float().div_(255.0).to(self.device)
        return (x - self.mean) / self.std, list(windows)

    @torch.no_grad()
    def score_tensor(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores ``[B]`` and smoothed error maps ``[B, S, S]`` of a preprocessed batch (on the runner)."""
        out = self.runner.run({"image": x.detach().cpu().numpy()})
        return torch.from_numpy(out["score"]), torch.from_numpy(out["error_map"])

    def predict(self, image: np.ndarray, threshold: float | None = None) -> dict[str, Any]:
        """Score one uint8 ``H x W x 3`` image.

        Args:
            image: The photo.
            threshold: This call's threshold (default: :attr:`threshold`); the detector itself
                is never changed, so one instance can serve concurrent requests.

        Returns:
            ``score``, ``threshold``, ``is_defect``, ``defect_probability``, ``error_map``: a
            float32 ``H x W`` array at the input image's resolution in ``[0, 1]`` (0.5 = the worst
            pixel error seen on normal validation images), and ``map_mean``: the mean of the raw
            (smoothed) map at model resolution, the input of :func:`inspector.review.rgb_ood_score`.
        """
        threshold = self.threshold if threshold is None else float(threshold)
        x, windows = self.preprocess(image)
        scores, maps = self.score_tensor(x)
        score = float(scores[0])
        map_mean = float(maps[0].mean())
        if self.crop.enabled:  # from the battery window back to the photo's pixels (0 outside)
            emap = uncrop_map(maps[0].cpu().numpy(), windows[0], image.shape)
        else:
            emap = F.interpolate(maps[:1, None], size=image.shape[:2], mode="bilinear", align_corners=False)
            emap = emap[0, 0].cpu().numpy()
        scale = 2.0 * self.error_scale if self.error_scale else float(emap.max()) or 1.0
        unit = np.clip(emap / scale, 0.0, 1.0).astype(np.float32)
        return {
            "score": score,
            "threshold": threshold,
            "is_defect": bool(score >= threshold),
            "defect_probability": defect_probability(score, threshold, self.score_scale),
            "error_map": unit,
            "map_mean": map_mean,
        }


def defect_probability(score: float, threshold: float, scale: float) -> float:
    """A logistic read of the margin: 0.5 at the threshold, towards 1 for clear defects.

    Args:
        score: Anomaly score.
        threshold: Decision threshold.
        scale: Score units per logit, e.g. the spread of validation scores (card ``score_stats``).
    """
    scale = scale if scale > 0 and math.isfinite(scale) else 1.0
    z = max(-60.0, min(60.0, (score - threshold) / scale))
    return 1.0 / (1.0 + math.exp(-z))
