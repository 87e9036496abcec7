"""RGB task data: the cached, cropped photos of one split and their loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from core.errors import InputError
from core.imageio import load_image
from core.preprocessing import RGBCrop
from training.tasks.rgb.config import RGBDataConfig

__all__ = ["RGBImages"]


class RGBImages(Dataset):
    """RGB rows of a dataset split, cropped and resized exactly as :class:`AnomalyDetector` does at run time.

    Images are decoded once (through :func:`core.imageio.load_image`) and kept as uint8
    arrays at model resolution, so every epoch after the first costs no decoding.

    Args:
        data_dir: Dataset folder with ``manifest.csv``.
        split: Manifest split to read (``"all"``: every RGB row, e.g. a dataset from an unseen seed).
        crop: The :class:`~training.anomaly.RGBCrop` (its ``size`` is the model input side); an
            ``int`` resizes the whole photo to that side.
        normals_only: Keep only ``is_defect == 0`` rows (the training set of the autoencoder).
        limit: Keep at most this many rows (first rows of the split, after filtering).
        hflip: Randomly flip images horizontally (training augmentation).
        rot90: Randomly turn images by quarter turns and flip them vertically too.

    Items are ``{"image": FloatTensor[3, S, S] in [0, 1], "region": FloatTensor[1, S, S] (the
    battery box, where synthetic defects are drawn), "is_defect": int, "label": str, "path": str}``.

    Raises:
        InputError: The split has no RGB rows.
    """

    def __init__(
        self,
        data_dir: str | Path,
        split: str,
        crop: RGBCrop | int,
        normals_only: bool = False,
        limit: int | None = None,
        hflip: bool = False,
        rot90: bool = False,
    ) -> None:
        from core.manifest import read_manifest

        self.root = Path(data_dir)
        frame = read_manifest(self.root, check_files=False)
        rows = frame[(frame["modality"] == "rgb") & ((frame["split"] == split) | (split == "all"))]
        if normals_only:
            rows = rows[rows["is_defect"] == 0]
        if limit is not None:
            rows = rows.head(limit)
        if rows.empty:
            kind = "normal RGB" if normals_only else "RGB"
            raise InputError(f"{self.root} has no {kind} images in split {split!r}.")
        self.paths = rows["image_path"].tolist()
        self.labels = rows["label"].tolist()
        self.is_defect = rows["is_defect"].astype(int).tolist()
        self.crop = crop if isinstance(crop, RGBCrop) else RGBCrop(int(crop), enabled=False)
        self.input_size = self.crop.size
        self.hflip = hflip
        self.rot90 = rot90
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The uint8 ``S x S x 3`` model view of row ``index`` and its battery-box region (cached)."""
        if index not in self._cache:
            view, _, region = self.crop(load_image(self.root / self.paths[index], "rgb"))
            self._cache[index] = (view, region)
        return self._cache[index]

    def __getitem__(self, index: int) -> dict[str, Any]:
        image, region = self.load(index)
        if self.rot90:
            turns = int(torch.randint(4, ()))
            image, region = np.rot90(image, turns), np.rot90(region, turns)
            if torch.rand(()) < 0.5:
                image, region = image[::-1], region[::-1]
        if (self.hflip or self.rot90) and torch.rand(()) < 0.5:
            image, region = image[:, ::-1], region[:, ::-1]
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)
        return {
            "image": tensor,
            "region": torch.from_numpy(np.ascontiguousarray(region))[None],
            "is_defect": self.is_defect[index],
            "label": self.labels[index],
            "path": self.paths[index],
        }


def _loader(dataset: Dataset, cfg: RGBDataConfig, shuffle: bool, seed: int) -> DataLoader:
    from training.loop import make_generator, seed_worker

    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        shuffle=shuffle,
        num_workers=cfg.num_workers,
        drop_last=shuffle and len(dataset) > cfg.batch_size,
        generator=make_generator(seed),
        worker_init_fn=seed_worker,
    )
