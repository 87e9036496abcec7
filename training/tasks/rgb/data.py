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
from core.preprocessing.rgb_crop import resize_square
from core.window import crop_window
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
        masks: Also return each photo's defect mask (the manifest's ``mask_path``, cropped and
            turned with the photo; zeros for normals) as ``"mask"``.

    Items are ``{"image": FloatTensor[3, S, S] in [0, 1], "region": FloatTensor[1, S, S] (the
    battery box, where synthetic defects are drawn), "is_defect": int, "label": str, "path": str}``
    (plus ``"mask": FloatTensor[1, S, S]`` with ``masks=True``).

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
        masks: bool = False,
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
        mask_paths = rows["mask_path"].tolist() if "mask_path" in rows else [None] * len(rows)
        self.mask_paths = [m if isinstance(m, str) and m else None for m in mask_paths]
        self.masks = masks
        self.labels = rows["label"].tolist()
        self.is_defect = rows["is_defect"].astype(int).tolist()
        # photos of one battery are correlated: intervals resample whole batteries
        ids = rows["battery_id"].astype(str) if "battery_id" in rows else rows["image_path"].astype(str)
        self.battery_ids = ids.tolist()
        self.crop = crop if isinstance(crop, RGBCrop) else RGBCrop(int(crop), enabled=False)
        self.input_size = self.crop.size
        self.hflip = hflip
        self.rot90 = rot90
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The uint8 ``S x S x 3`` model view of row ``index`` and its battery-box region (cached)."""
        view, region, _ = self._load(index)
        return view, region

    def _load(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if index not in self._cache:
            view, window, region = self.crop(load_image(self.root / self.paths[index], "rgb"))
            mask = None
            if self.masks:
                mask = np.zeros(view.shape[:2], np.float32)
                if self.mask_paths[index] is not None:
                    full = (load_image(self.root / self.mask_paths[index], "ct") > 0).astype(np.float32)
                    if not self.crop.enabled:
                        window = (0, 0, max(full.shape[:2]))
                    cut = crop_window(full, window, fill="median")
                    mask = (resize_square(cut, self.crop.size) > 0.25).astype(np.float32)
            self._cache[index] = (view, region, mask)
        return self._cache[index]

    def __getitem__(self, index: int) -> dict[str, Any]:
        image, region, mask = self._load(index)
        planes = [region] if mask is None else [region, mask]
        if self.rot90:
            turns = int(torch.randint(4, ()))
            image, planes = np.rot90(image, turns), [np.rot90(p, turns) for p in planes]
            if torch.rand(()) < 0.5:
                image, planes = image[::-1], [p[::-1] for p in planes]
        if (self.hflip or self.rot90) and torch.rand(()) < 0.5:
            image, planes = image[:, ::-1], [p[:, ::-1] for p in planes]
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)
        item = {
            "image": tensor,
            "region": torch.from_numpy(np.ascontiguousarray(planes[0]))[None],
            "is_defect": self.is_defect[index],
            "label": self.labels[index],
            "path": self.paths[index],
        }
        if mask is not None:
            item["mask"] = torch.from_numpy(np.ascontiguousarray(planes[1]))[None]
        return item


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
