"""``evaluate review``: how often the "needs review" flag fires on OOD and on ordinary slices.

Every image goes through the inspector as a user's upload would (decode with
:func:`core.imageio.load_image`, then :meth:`Inspector.analyse` with the given metadata), so the
image checks, the feature density, the metadata check and the margin rule are all measured. An
OOD image that decoding rejects with a clear error also counts as caught (``rejected``).
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from core.errors import ConfigError, InputError
from core.imageio import load_image
from core.manifest import read_manifest

log = logging.getLogger(__name__)

__all__ = ["evaluate_from_cli", "evaluate_review"]

OOD_MANIFEST = "ood.csv"


def _inspect(inspector: Any, path: Path, battery_type: str, axis: str) -> tuple[str, list[str]]:
    """``("flagged" | "passed" | "rejected", reasons)`` of one image."""
    try:
        image = load_image(path, "ct")
        evidence = inspector.analyse(ct=image, battery_type=battery_type, axis=axis)
    except InputError as exc:
        return "rejected", [str(exc)]
    return ("flagged" if evidence.needs_review else "passed"), evidence.review_reasons


def evaluate_review(
    checkpoint: str | Path,
    ood_dir: str | Path,
    data: Sequence[str | Path] = (),
    split: str = "test",
    limit: int | None = None,
) -> dict[str, Any]:
    """Flag rates of the CT review on an OOD set and on in-distribution slices.

    Args:
        checkpoint: CT checkpoint.
        ood_dir: Folder with ``ood.csv`` (``python -m inspector synth-ood``).
        data: In-distribution dataset folders (their ``split`` CT slices are inspected).
        split: Split of ``data``.
        limit: At most this many in-distribution slices per folder (evenly spaced).

    Returns:
        ``ood``: ``n``, ``caught_rate`` (flagged or rejected), ``per_case``; ``in_distribution``:
        ``n``, ``flag_rate``, ``reasons`` (count per reason).
    """
    from inspector.pipeline import Inspector
    from inspector.settings import InspectorSettings

    ood_dir = Path(ood_dir)
    if not (ood_dir / OOD_MANIFEST).is_file():
        raise InputError(f"{ood_dir} has no {OOD_MANIFEST}; make one with `python -m inspector synth-ood`")
    inspector = Inspector.load(InspectorSettings(ct_checkpoint=checkpoint), sides=("ct",))
    table = pd.read_csv(ood_dir / OOD_MANIFEST)
    per_case: dict[str, Counter] = {}
    for row in table.itertuples():
        outcome, _ = _inspect(inspector, ood_dir / row.image_path, row.battery_type, row.axis)
        per_case.setdefault(row.case, Counter())[outcome] += 1
    caught = sum(c["flagged"] + c["rejected"] for c in per_case.values())
    result: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "ood": {
            "n": int(len(table)),
            "caught_rate": caught / len(table) if len(table) else None,
            "per_case": {
                case: {
                    "n": sum(c.values()),
                    "flagged": c["flagged"],
                    "rejected": c["rejected"],
                    "caught_rate": (c["flagged"] + c["rejected"]) / sum(c.values()),
                }
                for case, c in sorted(per_case.items())
            },
        },
    }
    reasons: Counter = Counter()
    flagged = n = 0
    for folder in data:
        rows = read_manifest(folder)
        rows = rows[(rows["modality"] == "ct") & (rows["split"] == split)]
        if limit and len(rows) > limit:
            rows = rows.iloc[[round(i * (len(rows) - 1) / (limit - 1)) for i in range(limit)]]
        for row in rows.itertuples():
            outcome, why = _inspect(inspector, Path(folder) / row.image_path, row.battery_type, row.axis)
            n += 1
            flagged += outcome != "passed"
            reasons.update(why)
    if n:
        result["in_distribution"] = {
            "n": n,
            "flag_rate": flagged / n,
            "reasons": dict(sorted(reasons.items())),
            "data": [str(d) for d in data],
            "split": split,
        }
    return result


def evaluate_from_cli(args: argparse.Namespace) -> dict[str, Any]:
    """``python -m inspector evaluate review --checkpoint C --ood DIR [--data IN_DIST ...]``."""
    if not args.checkpoint or not getattr(args, "ood", None):
        raise ConfigError("evaluate review needs --checkpoint NAME.safetensors and --ood DIR")
    data = args.data if isinstance(args.data, list) else [args.data] if args.data else []
    return evaluate_review(args.checkpoint, args.ood, data, args.split, getattr(args, "limit", None))
