"""PyTorch datasets over a manifest: :class:`CTDataset` and :class:`RGBDataset`.

Each item is the sample dict of ``docs/DEVELOPING.md``::

    {"image": FloatTensor[C, H, W] in [0, 1], "mask": FloatTensor[1, H, W] (0/1),
     "label": int, "is_defect": int, "meta": FloatTensor[2] (CT only), "path": str}

Transforms (see :mod:`training.transforms`) receive and return numpy ``(image, mask)`` pairs
(image ``float32`` ``[H, W]`` or ``[H, W, 3]``, mask ``float32`` ``[H, W]``), so geometric
augmentations move the mask with the image.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from core.errors import InputError
from core.manifest import CT_LABELS, RGB_LABELS, read_manifest
from training.samplers import class_weights, make_weighted_sampler
from training.splits import assign_splits

__all__ = [
    "CTDataset",
    "RGBDataset",
    "ManifestDataset",
    "assign_splits",
    "class_weights",
    "encode_meta",
    "load_image",
    "load_manifest",
    "make_weighted_sampler",
]

log = logging.getLogger(__name__)

Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

BATTERY_TYPE_CODE = {"cell": 0.0, "module": 1.0}
AXIS_CODE = {"x": 0.0, "y": 1.0}


def encode_meta(battery_type: str, axis: str) -> torch.Tensor:
    """CT metadata vector ``[battery_type, axis]`` (cell=0, module=1; x=0, y=1).

    Raises:
        InputError: Unknown battery type or axis.
    """
    try:
        return torch.tensor([BATTERY_TYPE_CODE[battery_type], AXIS_CODE[axis]], dtype=torch.float32)
    except KeyError as exc:
        raise InputError(
            f"unknown CT metadata value {exc.args[0]!r} (battery_type cell|module, axis x|y)"
        ) from None


def load_image(path: str | Path, modality: str) -> np.ndarray:
    """Read an image as float32 in ``[0, 1]``: CT ``[H, W]`` (16- or 8-bit), RGB ``[H, W, 3]``.

    Raises:
        InputError: The file cannot be decoded.
    """
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise InputError(f"cannot read image {path}")
    scale = 65535.0 if raw.dtype == np.uint16 else 255.0
    img = raw.astype(np.float32) / np.float32(scale)
    if modality == "ct":
        return img if img.ndim == 2 else cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2GRAY)
    if img.ndim == 2:
        return np.repeat(img[..., None], 3, axis=2)
    return cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB)


def load_manifest(root: str | Path, seed: int = 0) -> pd.DataFrame:
    """Read and validate a manifest; if it has no splits at all, assign them by battery.

    A user folder whose ``split`` column is empty gets the default 70/15/15 battery-grouped
    split of :func:`training.splits.assign_splits` (deterministic for ``seed``).
    """
    df = read_manifest(root, require_split=False)
    if (df["split"] == "").all():
        log.info("%s has no splits; assigning train/val/test by battery (seed %d)", root, seed)
        df = assign_splits(df, seed=seed)
    return df


class ManifestDataset(Dataset):
    """Base class: one modality and split of a manifest, loading images and masks lazily.

    Args:
        root: Dataset folder (with ``manifest.csv``).
        split: Split name(s) to keep (``None`` keeps every row).
        transform: Paired ``(image, mask) -> (image, mask)`` callable, applied before tensors.
        manifest: An already read manifest (skips reading and validating again).
        limit: Keep at most this many rows (the first ones, for quick runs).
    """

    modality: str = ""
    labels: tuple[str, ...] = ()

    def __init__(
        self,
        root: str | Path,
        split: str | list[str] | None = "train",
        transform: Transform | None = None,
        manifest: pd.DataFrame | None = None,
        limit: int | None = None,
    ) -> None:
        self.root = Path(root)
        df = manifest if manifest is not None else load_manifest(self.root)
        df = df[df["modality"] == self.modality]
        if split is not None:
            splits = [split] if isinstance(split, str) else list(split)
            df = df[df["split"].isin(splits)]
            if df.empty:
                raise InputError(f"{self.root} has no {self.modality} images in split {'/'.join(splits)}")
        self.records = df.reset_index(drop=True).iloc[:limit] if limit else df.reset_index(drop=True)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.records)

    @property
    def targets(self) -> list[int]:
        """Label index of every item (for samplers and class weights)."""
        return [self.labels.index(lbl) for lbl in self.records["label"]]

    def __getitem__(self, index: int) -> dict:
        row = self.records.iloc[index]
        image = load_image(self.root / row["image_path"], self.modality)
        if row["mask_path"]:
            mask = cv2.imread(str(self.root / row["mask_path"]), cv2.IMREAD_GRAYSCALE)
            mask = (mask > 127).astype(np.float32)
        else:
            mask = np.zeros(image.shape[:2], np.float32)
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        chw = image[None] if image.ndim == 2 else image.transpose(2, 0, 1)
        sample = {
            "image": torch.from_numpy(np.ascontiguousarray(chw, dtype=np.float32)),
            "mask": torch.from_numpy(np.ascontiguousarray(mask[None], dtype=np.float32)),
            "label": self.labels.index(row["label"]),
            "is_defect": int(row["is_defect"]),
            "path": str(self.root / row["image_path"]),
        }
        return self.extra(row, sample)

    def extra(self, row: pd.Series, sample: dict) -> dict:
        """Hook for modality-specific fields."""
        return sample


class CTDataset(ManifestDataset):
    """CT slices: 1-channel images, 5 labels, and the ``meta`` vector."""

    modality = "ct"
    labels = CT_LABELS

    def extra(self, row: pd.Series, sample: dict) -> dict:
        sample["meta"] = encode_meta(row["battery_type"], row["axis"])
        return sample


class RGBDataset(ManifestDataset):
    """RGB photos: 3-channel images, 4 labels (``normal`` first)."""

    modality = "rgb"
    labels = RGB_LABELS
