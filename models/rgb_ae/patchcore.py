"""``patchcore``: anomalib's PatchCore (memory bank of patch features, coreset, nearest neighbour)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import torch

from models.rgb_ae._features import FeatureDetector, Progress
from models.rgb_ae.registry import register_model

__all__ = ["PatchCoreDetector", "buffered_k_center_greedy", "patchcore"]


@functools.cache
def buffered_k_center_greedy() -> type:
    """anomalib's ``KCenterGreedy`` with a reused distance buffer (a class; built on first use, as
    importing anomalib is slow)."""
    from anomalib.models.components import KCenterGreedy

    class BufferedKCenterGreedy(KCenterGreedy):
        """anomalib's k-center-greedy coreset, with the per-centre distances computed in one reused buffer.

        anomalib allocates a fresh ``features - centre`` tensor (N x d, ~20 MB for 20 000 patches)
        for each of the coreset's hundreds of centres. glibc keeps such freed blocks in its heap,
        and a 200-photo fit was measured at 6.8 GB resident (1.2 GB without the growth). Same
        selection, same order; only the memory is reused.

        The sparse random projection it selects on is seeded from torch's seed (anomalib leaves it
        to numpy's global generator), so ``torch.manual_seed`` alone makes a fit repeatable; the
        seed is read without drawing, so the selection itself stays anomalib's.
        """

        _diff: torch.Tensor | None = None

        def __init__(self, embedding: torch.Tensor, sampling_ratio: float) -> None:
            super().__init__(embedding=embedding, sampling_ratio=sampling_ratio)
            self.model.random_state = int(torch.initial_seed() % (2**31 - 1))

        def update_distances(self, cluster_center: int | torch.Tensor | None) -> None:
            if cluster_center is None:
                return
            if self._diff is None or self._diff.shape != self.features.shape:
                self._diff = torch.empty_like(self.features)
            torch.sub(self.features, self.features[cluster_center].reshape(1, -1), out=self._diff)
            distances = torch.linalg.vector_norm(self._diff, ord=2, dim=1, keepdim=True)
            self.min_distances = distances if self.min_distances is None else torch.minimum(self.min_distances, distances)

    return BufferedKCenterGreedy


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
        self.model.memory_bank = buffered_k_center_greedy()(embedding=embeddings, sampling_ratio=ratio).sample_coreset()


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
