"""Rows, images and box matching shared by the VLM and VLG evaluations."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InputError
from core.imageio import load_image
from core.manifest import read_manifest

log = logging.getLogger(__name__)


@dataclass
class Sample:
    """One manifest row ready for a backend: its image and ground truth."""

    path: str
    modality: str
    image: np.ndarray
    label: str
    is_defect: bool
    boxes: list[list[float]]
    battery_type: str | None
    axis: str | None


def select_rows(data: str | Path, split: str, limit: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The rows of ``split`` (shuffled with ``seed`` and cut to ``limit`` when one is given)."""
    df = read_manifest(data)
    rows = df[df["split"] == split]
    if rows.empty:
        splits = ", ".join(sorted(set(df["split"]) - {""})) or "none"
        raise InputError(f"split {split!r} has no rows in {data} (splits: {splits})")
    if limit is not None:
        if limit < 1:
            raise InputError("--limit must be a positive number of images")
        rows = rows.sample(frac=1.0, random_state=seed).head(limit)
    rows.attrs["root"] = df.attrs["root"]
    return rows


def iter_samples(rows: pd.DataFrame) -> Iterator[Sample]:
    """Load each row's image (CT float [0, 1], RGB uint8) with its ground truth."""
    root = Path(rows.attrs["root"])
    for _, row in rows.iterrows():
        yield Sample(
            path=row["image_path"],
            modality=row["modality"],
            image=load_image(root / row["image_path"], row["modality"]),
            label=row["label"],
            is_defect=bool(int(row["is_defect"])),
            boxes=[list(map(float, b)) for b in row["boxes"]],
            battery_type=row["battery_type"] or None,
            axis=row["axis"] or None,
        )


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two ``[x, y, w, h]`` boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


def match_boxes(truth: list[list[float]], predicted: list[list[float]], iou: float) -> tuple[int, int]:
    """Greedy one-to-one matching at ``iou``; returns ``(matched truths, matched predictions)``."""
    pairs = sorted(
        ((box_iou(t, p), i, j) for i, t in enumerate(truth) for j, p in enumerate(predicted)),
        reverse=True,
    )
    used_t: set[int] = set()
    used_p: set[int] = set()
    for value, i, j in pairs:
        if value < iou:
            break
        if i not in used_t and j not in used_p:
            used_t.add(i)
            used_p.add(j)
    return len(used_t), len(used_p)
