"""Labelled CT+RGB pairs of a dataset manifest (shared by ``batch`` and the compare bench).

A labelled pair is one CT row and one RGB row sharing ``pair_id``; its true verdict follows
from the two ``is_defect`` flags (seed 002 §3 truth table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InputError
from inspector.verdict import VERDICTS

__all__ = ["BatchItem", "expected_verdict", "items_from_manifest"]


@dataclass
class BatchItem:
    """One inspection of a batch: image paths, CT metadata, and the truth when known."""

    id: str
    ct_path: Path | None = None
    rgb_path: Path | None = None
    battery_type: str | None = None
    axis: str | None = None
    ct_defect: bool | None = None
    rgb_defect: bool | None = None
    ct_boxes: list[list[float]] = field(default_factory=list)
    rgb_boxes: list[list[float]] = field(default_factory=list)

    @property
    def paired(self) -> bool:
        """Both a CT and an RGB image."""
        return self.ct_path is not None and self.rgb_path is not None

    @property
    def expected(self) -> str | None:
        """The true verdict (seed 002 §3 truth table), or ``None`` if a label is unknown."""
        if (self.ct_path and self.ct_defect is None) or (self.rgb_path and self.rgb_defect is None):
            return None
        return expected_verdict(
            bool(self.ct_path and self.ct_defect), bool(self.rgb_path and self.rgb_defect)
        )


def expected_verdict(ct_defect: bool, rgb_defect: bool) -> str:
    """``normal``, ``internal_defect``, ``external_defect`` or ``composite_defect``."""
    return VERDICTS[int(ct_defect) + 2 * int(rgb_defect)]


def items_from_manifest(
    source: Path, split: str | None = "test", paired_only: bool = False
) -> list[BatchItem]:
    """Batch items of a dataset: CT+RGB rows sharing a ``pair_id`` together, the rest alone.

    Raises:
        InputError: Invalid manifest, or no rows in the split.
    """
    from core.manifest import read_manifest

    df = read_manifest(source, check_files=False, require_split=False)
    root = Path(df.attrs["root"])
    if split not in (None, "", "all"):
        df = df[df["split"] == split]
        if df.empty:
            raise InputError(f"the manifest in {root} has no rows in split {split!r}")
    items: dict[str, BatchItem] = {}
    for i, row in enumerate(df.itertuples(index=False)):
        pair = str(getattr(row, "pair_id", "") or "")
        key = f"pair:{pair}" if pair else f"row:{i}"
        item = items.setdefault(key, BatchItem(id=pair or Path(row.image_path).stem))
        path, defect = root / row.image_path, bool(int(row.is_defect))
        if row.modality == "ct":
            if item.ct_path is not None:  # several CT rows share a pair_id: keep them apart
                item = items.setdefault(f"row:{i}", BatchItem(id=Path(row.image_path).stem))
            item.ct_path, item.ct_defect = path, defect
            item.ct_boxes = [list(map(float, b)) for b in (row.boxes or [])]
            item.battery_type, item.axis = row.battery_type or None, row.axis or None
        else:
            if item.rgb_path is not None:
                item = items.setdefault(f"row:{i}", BatchItem(id=Path(row.image_path).stem))
            item.rgb_path, item.rgb_defect = path, defect
            item.rgb_boxes = [list(map(float, b)) for b in (row.boxes or [])]
            item.battery_type = item.battery_type or row.battery_type or None
    result = list(items.values())
    return [it for it in result if it.paired] if paired_only else result
