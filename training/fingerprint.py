"""A cheap fingerprint of a dataset folder, stored in checkpoint cards.

It hashes ``manifest.csv`` byte for byte plus the name and size of every file the manifest
points to, so a regenerated or edited dataset gets a new fingerprint without reading every
image. Two checkpoints trained on the same fingerprint saw the same data.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

from core.errors import InputError

__all__ = ["dataset_fingerprint"]


def dataset_fingerprint(data_dir: str | Path) -> dict[str, Any]:
    """Fingerprint of the dataset in ``data_dir``.

    Args:
        data_dir: Folder holding ``manifest.csv``.

    Returns:
        ``{"sha256": hex, "manifest_sha256": hex, "n_rows": int, "splits": {split: n},
        "name": folder name}``.

    Raises:
        InputError: If there is no ``manifest.csv``.
    """
    data_dir = Path(data_dir)
    manifest = data_dir / "manifest.csv"
    if not manifest.is_file():
        raise InputError(f"{data_dir} has no manifest.csv")
    raw = manifest.read_bytes()
    digest = hashlib.sha256(raw)
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    for row in rows:
        for column in ("image_path", "mask_path"):
            rel = row.get(column) or ""
            if rel:
                path = data_dir / rel
                size = path.stat().st_size if path.is_file() else -1
                digest.update(f"{rel}:{size}\n".encode())
    return {
        "sha256": digest.hexdigest(),
        "manifest_sha256": hashlib.sha256(raw).hexdigest(),
        "n_rows": len(rows),
        "splits": dict(sorted(Counter(row.get("split", "") for row in rows).items())),
        "name": data_dir.resolve().name,
    }
