"""``patchcore``: anomalib's PatchCore (memory bank of patch features, coreset, nearest neighbour)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

from models.rgb_ae._features import FeatureDetector, Progress
from models.rgb_ae.registry import register_model

__all__ = ["PatchCoreDetector", "patchcore"]


class PatchCoreDetector(FeatureDetector):
    """Roth et al. 2022 through ``anomalib.models.image.patchcore.torch_model.PatchcoreModel``.

    Args:
        backbone: timm model name (built with ``pre_trained=False``).
        layers: Backbone stages whose patch features are concatenated.
        coreset_ratio: Share of all patch features kept by k-center-greedy coreset selection
            (anomalib's ``KCenterGreedy``, which runs on a sparse random projection).
        max_bank: Upper bound of the memory bank size (keeps fitting time bounded).
        max_patches: Patch features drawn at random before the greedy coreset (its cost grows
            with features x bank size; 200 photos give 80 000 features at 160 px).
        num_neighbors: Neighbours of the re-weighting of the image score (paper, eq. 7).
    """

    fit_preset = {"folds": 3, "input_size": 160, "batch_size": 16}

    def __init__(
        self,
        backbone: str = "resnet18",
        layers: Sequence[str] = ("layer1", "layer2"),
        coreset_ratio: float = 0.02,
        max_bank: int = 1000,
        num_neighbors: int = 9,
        max_patches: int = 20000,
    ) -> None:
        super().__init__()
        self.max_patches = int(max_patches)
        from anomalib.models.image.patchcore.torch_model import PatchcoreModel

        self.coreset_ratio = float(coreset_ratio)
        self.max_bank = int(max_bank)
        self.model = PatchcoreModel(layers=list(layers), backbone=backbone, pre_trained=False, num_neighbors=num_neighbors)
        self.revive_residuals()

    def fit(self, batches: Iterable[torch.Tensor], progress: Progress | None = None) -> None:
        """Collect patch embeddings of the normals, then keep a coreset as the memory bank."""
        from anomalib.models.components import KCenterGreedy

        self.model.train()
        self.model.embedding_store.clear()
        with torch.no_grad():
            for batch in batches:
                self.model(batch)
        self.model.eval()
        embeddings = torch.vstack(self.model.embedding_store)
        self.model.embedding_store.clear()
        if embeddings.shape[0] > self.max_patches:
            embeddings = embeddings[torch.randperm(embeddings.shape[0])[: self.max_patches]]
        ratio = min(self.coreset_ratio, self.max_bank / embeddings.shape[0])
        ratio = max(ratio, 1.0 / embeddings.shape[0])
        if progress:
            progress(0.5, f"coreset of {embeddings.shape[0]} patch features")
        self.model.memory_bank = KCenterGreedy(embedding=embeddings, sampling_ratio=ratio).sample_coreset()


@register_model("patchcore")
def patchcore(
    backbone: str = "resnet18",
    layers: Sequence[str] = ("layer1", "layer2"),
    coreset_ratio: float = 0.02,
    max_bank: int = 1000,
    num_neighbors: int = 9,
    max_patches: int = 20000,
) -> PatchCoreDetector:
    """PatchCore (anomalib): nearest-neighbour distance of patch features to a coreset memory bank."""
    return PatchCoreDetector(backbone, layers, coreset_ratio, max_bank, num_neighbors, max_patches)
