"""Read, validate and write ``manifest.csv``: the one file that describes a dataset.

A dataset is a folder with ``manifest.csv`` and the images and masks it points to (paths
relative to the folder). Columns (see ``ARCHITECTURE.md``): ``image_path, mask_path, modality,
battery_id, battery_type, axis, slice_index, label, is_defect, boxes, split``; extension columns
``pair_id`` (one CT row and one RGB row of the same battery), ``stamp`` (synthetic scanner
stamp present) and ``engine`` (synthetic CT engine, ``draw`` or ``physics``) are optional.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
from PIL import Image

from core.errors import InputError

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.csv"

CT_LABELS: tuple[str, ...] = (
    "cell_normal",
    "cell_porosity",
    "module_normal",
    "module_porosity",
    "module_resin_overflow",
)
RGB_LABELS: tuple[str, ...] = ("normal", "pollution", "scratch", "damage")
LABELS: dict[str, tuple[str, ...]] = {"ct": CT_LABELS, "rgb": RGB_LABELS}
NORMAL_LABELS = frozenset({"cell_normal", "module_normal", "normal"})

SPLITS: tuple[str, ...] = ("train", "val", "test", "test_shift")
MODALITIES: tuple[str, ...] = ("ct", "rgb")
BATTERY_TYPES: tuple[str, ...] = ("cell", "module")
AXES: tuple[str, ...] = ("x", "y")

COLUMNS: tuple[str, ...] = (
    "image_path",
    "mask_path",
    "modality",
    "battery_id",
    "battery_type",
    "axis",
    "slice_index",
    "label",
    "is_defect",
    "boxes",
    "split",
)
EXTENSION_COLUMNS: tuple[str, ...] = ("pair_id", "stamp", "engine")


def is_defect_label(label: str) -> bool:
    """Whether a CT or RGB label names a defect."""
    return label not in NORMAL_LABELS


def _where(i: int) -> str:
    # Row i of the frame is line i + 2 of the file (line 1 is the header).
    return f"manifest line {i + 2}"


def read_manifest(
    root: str | Path,
    *,
    check_files: bool = True,
    require_split: bool = True,
) -> pd.DataFrame:
    """Read and validate ``root/manifest.csv``.

    Args:
        root: Dataset folder (or the manifest file itself).
        check_files: Also check that every image and mask exists and that each mask has its
            image's size (reads only the PNG headers).
        require_split: Every row must have a split; with ``False`` an all-empty ``split``
            column is accepted (see :func:`training.splits.assign_splits`).

    Returns:
        The manifest with typed columns (``slice_index``/``is_defect``/``stamp`` as int,
        ``boxes`` parsed into lists of ``[x, y, w, h]``, empty strings for missing text) and
        ``attrs["root"]`` set to the dataset folder.

    Raises:
        InputError: One sentence naming the first bad line and what is wrong with it.
    """
    root = Path(root)
    path = root if root.suffix == ".csv" else root / MANIFEST_NAME
    root = path.parent
    if not path.is_file():
        raise InputError(f"no {MANIFEST_NAME} in {root}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot parse {path}: {str(exc).splitlines()[0]}") from exc
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{path} is missing column(s): {', '.join(missing)}")
    if df.empty:
        raise InputError(f"{path} has no rows")
    for col in df.columns:
        df[col] = df[col].str.strip()
    df = _validate_rows(df, require_split)
    _validate_splits(df, require_split)
    if check_files:
        _validate_files(df, root)
    df.attrs["root"] = str(root)
    return df


def _validate_rows(df: pd.DataFrame, require_split: bool) -> pd.DataFrame:
    boxes, slices, defects, stamps = [], [], [], []
    has_stamp = "stamp" in df.columns
    for i, row in enumerate(df.itertuples(index=False)):
        where = _where(i)
        if not row.image_path:
            raise InputError(f"{where}: image_path is empty")
        if row.modality not in MODALITIES:
            raise InputError(f"{where}: modality {row.modality!r} is not one of {', '.join(MODALITIES)}")
        if row.label not in LABELS[row.modality]:
            raise InputError(
                f"{where}: unknown {row.modality} label {row.label!r} "
                f"(expected one of {', '.join(LABELS[row.modality])})"
            )
        if not row.battery_id:
            raise InputError(f"{where}: battery_id is empty")
        if row.battery_type not in BATTERY_TYPES:
            raise InputError(f"{where}: battery_type {row.battery_type!r} is not cell or module")
        if row.modality == "ct":
            if row.axis not in AXES:
                raise InputError(f"{where}: CT axis {row.axis!r} is not x or y")
            if not row.label.startswith(row.battery_type + "_"):
                raise InputError(
                    f"{where}: label {row.label!r} does not match battery_type {row.battery_type!r}"
                )
        defect = is_defect_label(row.label)
        if row.is_defect not in ("0", "1") or int(row.is_defect) != defect:
            raise InputError(f"{where}: is_defect {row.is_defect!r} contradicts label {row.label!r}")
        if row.split and row.split not in SPLITS:
            raise InputError(f"{where}: split {row.split!r} is not one of {', '.join(SPLITS)}")
        if require_split and not row.split:
            raise InputError(f"{where}: split is empty")
        try:
            slices.append(int(row.slice_index) if row.slice_index else 0)
        except ValueError:
            raise InputError(f"{where}: slice_index {row.slice_index!r} is not an integer") from None
        boxes.append(_parse_boxes(row.boxes, where))
        defects.append(int(defect))
        stamp = getattr(row, "stamp", "") if has_stamp else ""
        if stamp not in ("", "0", "1"):
            raise InputError(f"{where}: stamp {stamp!r} is not 0 or 1")
        stamps.append(int(stamp or 0))
    df = df.copy()
    df["boxes"], df["slice_index"], df["is_defect"], df["stamp"] = boxes, slices, defects, stamps
    if "pair_id" not in df.columns:
        df["pair_id"] = ""
    return df


def _parse_boxes(text: str, where: str) -> list[list[float]]:
    if not text:
        return []
    try:
        boxes = json.loads(text)
        if not isinstance(boxes, list) or not all(
            isinstance(b, list) and len(b) == 4 and all(isinstance(v, (int, float)) for v in b) for b in boxes
        ):
            raise ValueError
    except ValueError:
        raise InputError(f"{where}: boxes must be a JSON list of [x, y, w, h], got {text[:60]!r}") from None
    return boxes


def _validate_splits(df: pd.DataFrame, require_split: bool) -> None:
    empty = df["split"] == ""
    if not require_split and empty.any() and not empty.all():
        i = int(empty.to_numpy().nonzero()[0][0])
        raise InputError(f"{_where(i)}: split is empty while other rows have one (fill all or none)")
    per_battery = df[~empty].groupby("battery_id")["split"].nunique()
    leaked = per_battery[per_battery > 1]
    if len(leaked):
        bid = leaked.index[0]
        splits = sorted(df.loc[df["battery_id"] == bid, "split"].unique())
        i = int(((df["battery_id"] == bid) & (df["split"] == splits[-1])).to_numpy().nonzero()[0][0])
        raise InputError(f"{_where(i)}: battery {bid!r} appears in several splits ({', '.join(splits)})")


def _validate_files(df: pd.DataFrame, root: Path) -> None:
    for i, row in enumerate(df.itertuples(index=False)):
        image = root / row.image_path
        if not image.is_file():
            raise InputError(f"{_where(i)}: image file {row.image_path} does not exist")
        if row.is_defect and not row.mask_path:
            continue  # masks are optional for user data; defect rows simply have no mask
        if not row.mask_path:
            continue
        mask = root / row.mask_path
        if not mask.is_file():
            raise InputError(f"{_where(i)}: mask file {row.mask_path} does not exist")
        try:
            with Image.open(image) as im, Image.open(mask) as mk:
                image_size, mask_size = im.size, mk.size
        except OSError as exc:
            raise InputError(f"{_where(i)}: cannot read {row.image_path} or its mask ({exc})") from exc
        if image_size != mask_size:
            raise InputError(
                f"{_where(i)}: mask {row.mask_path} is {mask_size[0]}x{mask_size[1]} "
                f"but image is {image_size[0]}x{image_size[1]}"
            )


def write_manifest(df: pd.DataFrame, root: str | Path) -> Path:
    """Write ``df`` as ``root/manifest.csv`` (contract columns first, boxes as JSON).

    Args:
        df: Rows with at least the contract columns; ``boxes`` may be lists or JSON strings.
        root: Dataset folder.

    Returns:
        The path of the written manifest.
    """
    out = df.copy()
    out["boxes"] = [b if isinstance(b, str) else json.dumps(b) for b in out["boxes"]]
    extra = [c for c in out.columns if c not in COLUMNS]
    path = Path(root) / MANIFEST_NAME
    out[list(COLUMNS) + extra].to_csv(path, index=False)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m core.manifest DIR``: validate a dataset folder and print a summary."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m core.manifest DATASET_DIR", file=sys.stderr)
        return 2
    try:
        df = read_manifest(args[0], require_split=False)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args[0]}: {len(df)} rows, {df['battery_id'].nunique()} batteries - valid")
    print(df.groupby(["modality", "label", "split"]).size().unstack(fill_value=0).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
