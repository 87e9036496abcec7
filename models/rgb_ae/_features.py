"""Shared base of the feature-based RGB detectors (PatchCore, PaDiM, STFPM through anomalib).

The anomalib torch models do the work (feature extraction, memory bank, Gaussian statistics,
nearest-neighbour search, anomaly maps); this base gives them the interface the rest of the
project uses for every RGB model:

- ``anomaly_map(x) -> [B, H, W]`` (so :class:`inspector.anomaly.AnomalyDetector` scores them
  like DRAEM),
- ``fit(batches, progress)`` on normalised normal images,
- ``load_backbone_weights(path)`` from a local ``.safetensors`` file (no model hub is reachable:
  backbones are always built with ``pre_trained=False``),
- every fitted statistic is a buffer, so the memory bank / Gaussian is saved in the safetensors
  checkpoint and restored by ``load_state_dict`` (anomalib's ``DynamicBufferMixin`` resizes it).

anomalib is imported inside the factories, never at module import: the registry imports every
module of :mod:`models.rgb_ae` on its first lookup, and anomalib (with lightning) takes seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

# what a detector family wants from the fitting procedure (a preset, read by the fit function)
DEFAULT_FIT_PRESET: dict[str, float | int] = {"folds": 5, "input_size": 160, "batch_size": 16}


class FeatureDetector(nn.Module):
    """Base of a feature-based detector: subclasses set ``self.model`` (an anomalib torch model).

    Class attributes:
        fit_preset: Cross-fitting folds, input size and batch size of :func:`fit rgb`.
    """

    fit_preset: dict[str, float | int] = DEFAULT_FIT_PRESET
    model: nn.Module

    def revive_residuals(self) -> int:
        """Give zero-initialised BatchNorm scales of a randomly initialised backbone the value 1.

        timm builds ResNets with ``zero_init_last=True``: the last BatchNorm of every residual
        block starts with weight 0, so with no pretrained weights every residual branch outputs
        zeros and the "features" are only the stem and the 1x1 downsampling shortcuts. That is
        right for training from scratch and wrong for a frozen random feature extractor. Loading
        backbone weights (or a fitted checkpoint) overwrites these values again.

        Returns:
            The number of BatchNorm layers changed.
        """
        changed = 0
        with torch.no_grad():
            for net in self.extractors():
                for module in net.modules():
                    if isinstance(module, nn.BatchNorm2d) and module.weight is not None and not module.weight.any():
                        module.weight.fill_(1.0)
                        changed += 1
        return changed

    def extractors(self) -> list[nn.Module]:
        """The timm feature networks that pretrained backbone weights go into."""
        return [self.model.feature_extractor.feature_extractor]

    def load_backbone_weights(self, path: str | Path) -> int:
        """Load a local ``.safetensors`` backbone (timm key names, prefixes stripped) into the extractor(s).

        Returns:
            The number of tensors loaded into each extractor.

        Raises:
            CheckpointError: Missing/unreadable file or tensors that do not fit.
        """
        from models.backbones.pretrained import load_pretrained

        counts = [load_pretrained(net, path) for net in self.extractors()]
        return min(counts)

    def fit(self, batches: Iterable[torch.Tensor], progress: Progress | None = None) -> None:
        """Fit on normalised normal images (``[B, 3, S, S]`` batches); implemented by subclasses."""
        raise NotImplementedError

    @torch.no_grad()
    def anomaly_map(self, x: torch.Tensor) -> torch.Tensor:
        """Pixel anomaly map ``[B, H, W]`` of a normalised batch (model in eval mode)."""
        self.model.eval()
        return self.model(x).anomaly_map[:, 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The input itself: these detectors reconstruct nothing (the error comes from :meth:`anomaly_map`)."""
        return x
