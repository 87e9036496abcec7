"""``padim``: anomalib's PaDiM (a Gaussian of the patch features at every position, Mahalanobis)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

from models.rgb_ae._features import FeatureDetector, Progress
from models.rgb_ae.registry import register_model

__all__ = ["PaDiMDetector", "padim"]


class PaDiMDetector(FeatureDetector):
    """Defard et al. 2021 through ``anomalib.models.image.padim.torch_model.PadimModel``.

    Args:
        backbone: timm model name (built with ``pre_trained=False``).
        layers: Backbone stages concatenated into the patch embedding.
        n_features: Randomly kept embedding channels (the indices are a saved buffer).
    """

    def __init__(self, backbone: str = "resnet18", layers: Sequence[str] = ("layer1", "layer2"), n_features: int = 100) -> None:
        super().__init__()
        from anomalib.models.image.padim.torch_model import PadimModel

        self.model = PadimModel(backbone=backbone, layers=list(layers), pre_trained=False, n_features=n_features)
        self.revive_residuals()

    def fit(self, batches: Iterable[torch.Tensor], progress: Progress | None = None) -> None:
        """Collect the embeddings of the normals and fit the per-position Gaussians."""
        self.model.train()
        self.model.memory_bank = []
        with torch.no_grad():
            for batch in batches:
                self.model(batch)
        self.model.eval()
        self.model.fit()


@register_model("padim")
def padim(backbone: str = "resnet18", layers: Sequence[str] = ("layer1", "layer2"), n_features: int = 100) -> PaDiMDetector:
    """PaDiM (anomalib): Mahalanobis distance of each patch feature to its position's Gaussian."""
    return PaDiMDetector(backbone, layers, n_features)
