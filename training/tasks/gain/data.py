"""GAIN task data: a split resized and cached in memory, and its (balanced) loader."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import ConcatDataset, DataLoader, Dataset, WeightedRandomSampler

from core.preprocessing.intensity import normalise_intensity
from training.loop import make_generator
from training.tasks.common import evenly_spaced_indices, task_loader
from training.tasks.gain.config import GainDataConfig

log = logging.getLogger(__name__)

__all__ = ["GainSplit", "make_loader"]


def _resize(array: np.ndarray, size: int) -> np.ndarray:
    if array.shape[0] == size and array.shape[1] == size:
        return array
    return cv2.resize(array, (size, size), interpolation=cv2.INTER_AREA)


class GainSplit(Dataset):
    """One split of a CT dataset, resized and cached in memory as tensors.

    Images are resized with area interpolation; masks are area-resized and binarised at 0.5,
    so metrics compare maps with the mask at the model's input resolution. The whole split is
    decoded once (the ablation trains many models on the same images).

    Args:
        data_dir: Dataset folder with ``manifest.csv``, or several (concatenated in order).
        split: Manifest split.
        input_size: Side of the square model input.
        augment: ``"flip"`` applies random horizontal/vertical flips to image and mask;
            ``"flip_scanner"`` also the CT scanner domain randomisation (then the window again).
        limit: Keep at most this many images, evenly spaced over the split (all classes stay).
        intensity: Intensity window applied after resizing, as the predictor does.
    """

    def __init__(
        self,
        data_dir: str | Path | Sequence[str | Path],
        split: str,
        input_size: int,
        augment: str = "none",
        limit: int | None = None,
        intensity: str = "none",
    ) -> None:
        from training.datasets import CTDataset

        dirs = [data_dir] if isinstance(data_dir, (str, Path)) else list(data_dir)
        parts = [CTDataset(d, split=split) for d in dirs]
        source = parts[0] if len(parts) == 1 else ConcatDataset(parts)
        indices = evenly_spaced_indices(len(source), limit)
        n = len(indices)
        self.images = torch.empty(n, 1, input_size, input_size)
        self.masks = torch.empty(n, 1, input_size, input_size)
        self.is_defect = torch.empty(n, dtype=torch.long)
        self.paths: list[str] = []
        for j, i in enumerate(indices):
            sample = source[int(i)]
            image = normalise_intensity(_resize(sample["image"][0].numpy(), input_size), intensity)
            self.images[j, 0] = torch.from_numpy(image)
            mask = _resize(sample["mask"][0].numpy(), input_size)
            self.masks[j, 0] = torch.from_numpy((mask >= 0.5).astype(np.float32))
            self.is_defect[j] = int(sample["is_defect"])
            self.paths.append(sample["path"])
        self.augment = augment
        self.intensity = intensity
        self._scanner = None
        if augment == "flip_scanner":
            from training.ct_augment import ScannerAugment

            self._scanner = ScannerAugment()
        log.info("cached %d images of split %s from %s at %d px", n, split, data_dir, input_size)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict[str, Any]:
        image, mask = self.images[index], self.masks[index]
        if self.augment in ("flip", "flip_scanner"):
            for dim in (-1, -2):
                if torch.rand(()) < 0.5:
                    image, mask = image.flip(dim), mask.flip(dim)
        if self._scanner is not None:
            scanned, _ = self._scanner(image[0].numpy(), mask[0].numpy())
            image = torch.from_numpy(normalise_intensity(scanned, self.intensity)[None].copy())
        return {"image": image, "mask": mask, "is_defect": self.is_defect[index], "index": index}


def make_loader(dataset: GainSplit, cfg: GainDataConfig, seed: int, train: bool) -> DataLoader:
    """Batches of a cached split; training batches balance normal and defect images."""
    sampler = None
    if train and cfg.balance:
        labels = dataset.is_defect.numpy()
        counts = np.bincount(labels, minlength=2).astype(np.float64)
        weights = 1.0 / np.maximum(counts, 1.0)
        sampler = WeightedRandomSampler(
            torch.as_tensor(weights[labels], dtype=torch.double),
            num_samples=len(labels),
            replacement=True,
            generator=make_generator(seed),
        )
    return task_loader(dataset, cfg.batch_size, seed, train, sampler)
