"""Copy a few samples per class from a dataset into a small self-contained folder (``assets/``).

``python -m training.synth.samples --data data/seed1 --out assets`` picks ``--per-class``
test-split images of every CT and RGB label (both CT axes where possible) and writes them with
their masks and a ``manifest.csv`` that follows the dataset contract, so the app can offer them
without any upload and the same reader validates them.
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from core.manifest import CT_LABELS, RGB_LABELS, read_manifest, write_manifest

log = logging.getLogger(__name__)


def export_samples(
    data: str | Path, out: str | Path, per_class: int = 2, split: str = "test", seed: int = 0
) -> pd.DataFrame:
    """Copy ``per_class`` images (+ masks) of each label from ``data`` into ``out``.

    Args:
        data: Source dataset folder.
        out: Target folder (its ``ct/``, ``rgb/`` and mask folders are replaced).
        per_class: Images per label.
        split: Split to take samples from.
        seed: Which samples to pick.

    Returns:
        The manifest written to ``out/manifest.csv``.
    """
    data, out = Path(data), Path(out)
    df = read_manifest(data)
    df = df[df["split"] == split]
    rng = np.random.default_rng(seed)
    picks = []
    for modality, labels in (("ct", CT_LABELS), ("rgb", RGB_LABELS)):
        for label in labels:
            sub = df[(df["modality"] == modality) & (df["label"] == label)]
            if modality == "ct":  # alternate axes
                by_axis = [sub[sub["axis"] == a] for a in ("y", "x")]
                chosen = [
                    part.index[rng.integers(len(part))]
                    for k in range(per_class)
                    if len(part := by_axis[k % 2])
                ]
            else:
                chosen = list(sub.index[rng.permutation(len(sub))[:per_class]])
            picks += chosen
    rows = df.loc[picks].copy()
    rows["pair_id"] = ""
    for name in ("ct", "ct_masks", "rgb", "rgb_masks"):
        shutil.rmtree(out / name, ignore_errors=True)
    for col in ("image_path", "mask_path"):
        new = []
        for rel in rows[col]:
            if not rel:
                new.append("")
                continue
            parts = Path(rel).parts  # e.g. ct/test/NAME.png -> ct/NAME.png
            target = Path(parts[0]) / parts[-1]
            (out / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(data / rel, out / target)
            new.append(target.as_posix())
        rows[col] = new
    write_manifest(rows.reset_index(drop=True), out)
    log.info("exported %d samples to %s", len(rows), out)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--per-class", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    export_samples(args.data, args.out, args.per_class, seed=args.seed)


if __name__ == "__main__":
    main()
