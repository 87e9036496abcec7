"""Contact sheet of a dataset: a few samples per class with mask outlines (``--preview``)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from core.manifest import CT_LABELS, RGB_LABELS, read_manifest

log = logging.getLogger(__name__)

OUTLINE = (255, 40, 40)  # RGB
STAMPED = (40, 200, 255)


def _tile(root: Path, row, tile: int) -> np.ndarray:
    raw = cv2.imread(str(root / row.image_path), cv2.IMREAD_UNCHANGED)
    if raw.dtype == np.uint16:
        raw = (raw / 257).astype(np.uint8)
    img = cv2.cvtColor(raw, cv2.COLOR_GRAY2RGB) if raw.ndim == 2 else cv2.cvtColor(raw, cv2.COLOR_BGR2RGB)
    if row.mask_path:
        mask = cv2.imread(str(root / row.mask_path), cv2.IMREAD_GRAYSCALE)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(img, contours, -1, OUTLINE, 1)
    img = cv2.resize(img, (tile, tile), interpolation=cv2.INTER_AREA)
    if int(row.stamp):
        cv2.rectangle(img, (0, 0), (tile - 1, tile - 1), STAMPED, 2)
    return img


def contact_sheet(
    root: str | Path, out: str | Path, per_class: int = 4, tile: int = 192, seed: int = 0
) -> Path:
    """Write a PNG grid: one row per label (CT then RGB), ``per_class`` samples each.

    Defect masks are outlined in red; CT images that carry the scanner stamp get a cyan frame.

    Args:
        root: Dataset folder.
        out: PNG to write.
        per_class: Samples per label.
        tile: Side of each tile in pixels.
        seed: Which samples to pick.

    Returns:
        The written path.
    """
    root, out = Path(root), Path(out)
    df = read_manifest(root, check_files=False)
    rng = np.random.default_rng(seed)
    rows = []
    label_w = 150
    for modality, labels in (("ct", CT_LABELS), ("rgb", RGB_LABELS)):
        for label in labels:
            sub = df[(df["modality"] == modality) & (df["label"] == label)]
            if sub.empty:
                continue
            if modality == "ct":  # show both axes when possible
                picks = []
                for axis in ("y", "x"):
                    part = sub[sub["axis"] == axis]
                    k = min(len(part), (per_class + (axis == "y")) // 2)
                    picks += list(part.index[rng.permutation(len(part))[:k]])
            else:
                picks = list(sub.index[rng.permutation(len(sub))[:per_class]])
            tiles = [_tile(root, df.loc[i], tile) for i in picks]
            tiles += [np.full((tile, tile, 3), 255, np.uint8)] * (per_class - len(tiles))
            head = np.full((tile, label_w, 3), 255, np.uint8)
            cv2.putText(
                head,
                modality.upper(),
                (6, tile // 2 - 10),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.5,
                (0, 0, 0),
                1,
                cv2.LINE_AA,
            )
            cv2.putText(
                head, label, (6, tile // 2 + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA
            )
            rows.append(np.hstack([head, *tiles]))
    sheet = np.vstack(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    log.info("contact sheet: %s", out)
    return out
