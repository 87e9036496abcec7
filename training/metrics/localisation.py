"""Localisation metrics of GAIN-MTL: is the model looking at the defect?

All maps are compared with the ground-truth mask at the model's input resolution: maps of a
coarser grid are upsampled bilinearly first, then attention maps are per-image min-max
normalised (seed 001, section 4): ``(A - min A) / (max A - min A)``; a constant map becomes all
zeros. Nothing is clipped here: the attention the GAIN task passes in is already
:func:`models.gain_mtl.normalise_attention` of the evidence (upsampled, then clipped at zero,
then min-max normalised), so the min-max step here changes it only by that function's
epsilon guard.
Only defect images with a non-empty mask enter these metrics; each metric is the mean over
those images of a per-image value:

* **CAM-IoU**: IoU between the normalised attention binarised at ``threshold`` (0.5) and the
  mask.
* **PointGame**: 1 if the attention's maximum lies within ``tolerance`` pixels (Chebyshev
  distance, default 3 px) of a mask pixel, else 0. An all-zero map (no attention) is a miss.
  Ties go to the first maximum in raster order.
* **Energy-Inside**: share of the normalised attention's mass inside the mask,
  ``sum(A * g) / sum(A)`` (0 for an all-zero map).
* **Loc-IoU**: IoU between the localisation head's probabilities binarised at ``threshold``
  and the mask (no normalisation: the head predicts probabilities).

Classification metrics (all images, defect = positive class, decision ``p >= threshold``):
accuracy, recall (defect images found), F1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

__all__ = [
    "GainMetrics",
    "cam_iou",
    "energy_inside",
    "loc_iou",
    "minmax_normalise",
    "point_game",
]


def _as_batch(x: torch.Tensor) -> torch.Tensor:
    """``[H, W]``, ``[1, H, W]`` or ``[B, 1, H, W]`` -> ``[B, H, W]`` float."""
    x = torch.as_tensor(x).float()
    if x.ndim == 2:
        return x.unsqueeze(0)
    if x.ndim == 4:
        return x[:, 0]
    return x


def _at_size(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(maps.shape[-2:]) == tuple(size):
        return maps
    return F.interpolate(maps.unsqueeze(1), size=size, mode="bilinear", align_corners=False)[:, 0]


def minmax_normalise(maps: torch.Tensor) -> torch.Tensor:
    """Per-image min-max normalisation of ``[B, H, W]`` maps; constant maps become zeros."""
    maps = _as_batch(maps)
    flat = maps.flatten(1)
    lo = flat.min(1).values.view(-1, 1, 1)
    hi = flat.max(1).values.view(-1, 1, 1)
    span = hi - lo
    return torch.where(span > 1e-12, (maps - lo) / span.clamp(min=1e-12), torch.zeros_like(maps))


def _iou(pred: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    inter = (pred & mask).flatten(1).sum(1).float()
    union = (pred | mask).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(inter))


def cam_iou(attention: torch.Tensor, mask: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Per-image IoU of the normalised attention at ``threshold`` with the mask, ``[B]``."""
    mask = _as_batch(mask) > 0.5
    att = minmax_normalise(_at_size(_as_batch(attention), mask.shape[-2:]))
    return _iou(att >= threshold, mask)


def point_game(attention: torch.Tensor, mask: torch.Tensor, tolerance: int = 3) -> torch.Tensor:
    """Per-image hit (1.0) or miss (0.0) of the attention maximum, ``[B]``."""
    mask = (_as_batch(mask) > 0.5).float()
    att = _at_size(_as_batch(attention), mask.shape[-2:])
    if tolerance > 0:
        mask = F.max_pool2d(mask.unsqueeze(1), 2 * tolerance + 1, stride=1, padding=tolerance)[:, 0]
    flat = att.flatten(1)
    idx = flat.argmax(1)
    hit = mask.flatten(1).gather(1, idx.unsqueeze(1))[:, 0] > 0
    has_attention = (flat.max(1).values - flat.min(1).values) > 1e-12
    return (hit & has_attention).float()


def energy_inside(attention: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-image share of normalised attention mass inside the mask, ``[B]``."""
    mask = (_as_batch(mask) > 0.5).float()
    att = minmax_normalise(_at_size(_as_batch(attention), mask.shape[-2:]))
    total = att.flatten(1).sum(1)
    inside = (att * mask).flatten(1).sum(1)
    return torch.where(total > 0, inside / total.clamp(min=1e-12), torch.zeros_like(total))


def loc_iou(prob: torch.Tensor, mask: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Per-image IoU of localisation probabilities at ``threshold`` with the mask, ``[B]``."""
    mask = _as_batch(mask) > 0.5
    prob = _at_size(_as_batch(prob), mask.shape[-2:])
    return _iou(prob >= threshold, mask)


@dataclass
class GainMetrics:
    """Accumulates classification and localisation metrics over batches.

    Args:
        threshold: Decision threshold on the defect probability.
        map_threshold: Binarisation threshold of attention and localisation maps.
        tolerance: PointGame tolerance in pixels.
    """

    threshold: float = 0.5
    map_threshold: float = 0.5
    tolerance: int = 3
    _probs: list[torch.Tensor] = field(default_factory=list, repr=False)
    _labels: list[torch.Tensor] = field(default_factory=list, repr=False)
    _per_image: dict[str, list[torch.Tensor]] = field(
        default_factory=lambda: {"cam_iou": [], "point_game": [], "energy_inside": [], "loc_iou": []},
        repr=False,
    )

    def update(
        self,
        defect_prob: torch.Tensor,
        is_defect: torch.Tensor,
        attention: torch.Tensor,
        mask: torch.Tensor,
        loc_prob: torch.Tensor | None = None,
    ) -> None:
        """Add one batch.

        Args:
            defect_prob: ``[B]`` predicted defect probabilities.
            is_defect: ``[B]`` ground truth (0/1).
            attention: ``[B, 1, H, W]`` attention maps.
            mask: ``[B, 1, H, W]`` ground-truth masks.
            loc_prob: ``[B, 1, H, W]`` localisation probabilities, if the model has a head.
        """
        defect_prob = defect_prob.detach().float().cpu().flatten()
        is_defect = is_defect.detach().cpu().flatten().long()
        self._probs.append(defect_prob)
        self._labels.append(is_defect)
        mask = _as_batch(mask.detach().cpu())
        keep = (is_defect > 0) & ((mask > 0.5).flatten(1).sum(1) > 0)
        if not bool(keep.any()):
            return
        att = _as_batch(attention.detach().cpu())[keep]
        m = mask[keep]
        self._per_image["cam_iou"].append(cam_iou(att, m, self.map_threshold))
        self._per_image["point_game"].append(point_game(att, m, self.tolerance))
        self._per_image["energy_inside"].append(energy_inside(att, m))
        if loc_prob is not None:
            self._per_image["loc_iou"].append(
                loc_iou(_as_batch(loc_prob.detach().cpu())[keep], m, self.map_threshold)
            )

    def compute(self) -> dict[str, float | int]:
        """The contract dict: accuracy, recall, f1, cam_iou, point_game, energy_inside,
        loc_iou, n_images, n_defect_images (plus precision and the decision threshold)."""
        probs = torch.cat(self._probs) if self._probs else torch.zeros(0)
        labels = torch.cat(self._labels) if self._labels else torch.zeros(0, dtype=torch.long)
        pred = (probs >= self.threshold).long()
        tp = int(((pred == 1) & (labels == 1)).sum())
        fp = int(((pred == 1) & (labels == 0)).sum())
        fn = int(((pred == 0) & (labels == 1)).sum())
        n = int(labels.numel())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

        def mean(name: str) -> float | None:
            values = self._per_image[name]
            return float(torch.cat(values).mean()) if values else None

        return {
            "accuracy": float((pred == labels).float().mean()) if n else 0.0,
            "recall": recall,
            "f1": f1,
            "precision": precision,
            "cam_iou": mean("cam_iou"),
            "point_game": mean("point_game"),
            "energy_inside": mean("energy_inside"),
            "loc_iou": mean("loc_iou"),
            "n_images": n,
            "n_defect_images": int((labels == 1).sum()),
            "threshold": self.threshold,
        }
