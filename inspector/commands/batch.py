"""``python -m inspector batch SOURCE --out FILE.jsonl``: inspect many batteries.

``--engine ray`` runs the same inspections on a Ray Data actor pool (:mod:`inspector.commands._batch_ray`).

``SOURCE`` is a dataset folder (or its ``manifest.csv``), or a folder of images: either with
``ct/`` and ``rgb/`` sub-folders whose files are paired by name stem, or a flat folder of one
modality (``--modality``). With a manifest, the CT and RGB rows that share a ``pair_id`` are
inspected together and every other row alone; the labels give the expected verdict, and the
summary reports accuracy per verdict and the paired CT+RGB accuracy.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.errors import InputError, InspectorError
from inspector.commands.inspect import add_backend_arguments, settings_from_args
from inspector.pairs import BatchItem, expected_verdict, items_from_manifest
from inspector.verdict import VERDICTS

__all__ = ["BatchItem", "expected_verdict", "items_from_manifest", "items_from_folder", "summarise"]

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm", ".bmp", ".webp")


def items_from_folder(
    source: Path, modality: str | None, battery_type: str | None, axis: str | None
) -> list[BatchItem]:
    """Batch items of an image folder (``ct/`` + ``rgb/`` paired by stem, or flat with ``modality``).

    Raises:
        InputError: No images, or a flat folder without ``--modality``.
    """

    def images(folder: Path) -> dict[str, Path]:
        return {
            p.stem: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        }

    sub = {m: images(source / m) for m in ("ct", "rgb") if (source / m).is_dir()}
    if not sub:
        if modality is None:
            raise InputError(
                f"{source} has no manifest.csv and no ct/ or rgb/ folder; pass --modality ct|rgb"
            )
        sub = {modality: images(source)}
    stems = sorted(set().union(*(s.keys() for s in sub.values())))
    if not stems:
        raise InputError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in {source}")
    return [
        BatchItem(
            id=stem,
            ct_path=sub.get("ct", {}).get(stem),
            rgb_path=sub.get("rgb", {}).get(stem),
            battery_type=battery_type,
            axis=axis,
        )
        for stem in stems
    ]


def collect_items(args: argparse.Namespace) -> list[BatchItem]:
    """The batch items described by the command-line arguments."""
    source = Path(args.source)
    if not source.exists():
        raise InputError(f"{source} does not exist")
    if source.suffix == ".csv" or (source / "manifest.csv").is_file():
        items = items_from_manifest(source, args.split, args.paired_only)
    else:
        items = items_from_folder(source, args.modality, args.battery_type, args.axis)
    if args.battery_type or args.axis:  # explicit metadata wins over the manifest
        for item in items:
            item.battery_type = args.battery_type or item.battery_type
            item.axis = args.axis or item.axis
    return items[: args.limit] if args.limit else items


def inspect_item(inspector: Any, item: BatchItem, lang: str = "en") -> dict[str, Any]:
    """Inspect one item; a bad image becomes an ``error`` entry instead of stopping the batch."""
    from core.imageio import load_image
    from inspector.pipeline import InspectionRequest, run_inspection

    record: dict[str, Any] = {
        "id": item.id,
        "ct_path": str(item.ct_path) if item.ct_path else None,
        "rgb_path": str(item.rgb_path) if item.rgb_path else None,
        "expected": item.expected,
    }
    try:
        request = InspectionRequest(
            ct=load_image(item.ct_path, "ct") if item.ct_path else None,
            rgb=load_image(item.rgb_path, "rgb") if item.rgb_path else None,
            battery_type=item.battery_type,
            axis=item.axis,
            lang=lang,
        )
        record.update(run_inspection(inspector, request))
    except InspectorError as exc:
        record["error"] = str(exc)
    if item.expected is not None and "verdict" in record:
        record["correct"] = record["verdict"] == item.expected
    return record


def summarise(records: list[dict[str, Any]], items: list[BatchItem], elapsed_s: float) -> dict[str, Any]:
    """Counts, accuracy per true verdict, paired CT+RGB accuracy, side accuracies, throughput."""
    ok = [(r, it) for r, it in zip(records, items) if "error" not in r]
    labelled = [(r, it) for r, it in ok if it.expected is not None]
    paired = [(r, it) for r, it in labelled if it.paired]
    index = {v: i for i, v in enumerate(VERDICTS)}
    matrix = [[0] * len(VERDICTS) for _ in VERDICTS]
    for r, it in labelled:
        matrix[index[it.expected]][index[r["verdict"]]] += 1

    def accuracy(pairs: list) -> float | None:
        return sum(r["verdict"] == it.expected for r, it in pairs) / len(pairs) if pairs else None

    def side_accuracy(side: str) -> float | None:
        truth = [(r[side]["is_defect"], getattr(it, f"{side}_defect")) for r, it in ok if r.get(side)]
        truth = [(p, t) for p, t in truth if t is not None]
        return sum(p == t for p, t in truth) / len(truth) if truth else None

    per_verdict = {}
    for v, i in index.items():
        n = sum(matrix[i])
        per_verdict[v] = {"n": n, "correct": matrix[i][i], "accuracy": matrix[i][i] / n if n else None}
    predicted = {v: sum(r["verdict"] == v for r, _ in ok) for v in VERDICTS}
    n_pairs = sum(it.paired for _, it in ok)
    return {
        "n_items": len(records),
        "n_errors": len(records) - len(ok),
        "n_labelled": len(labelled),
        "n_paired": len(paired),
        "accuracy": accuracy(labelled),
        "paired_accuracy": accuracy(paired),
        "per_verdict": per_verdict,
        "predicted_counts": predicted,
        "confusion_matrix": {"labels": list(VERDICTS), "rows_true_cols_predicted": matrix},
        "ct_accuracy": side_accuracy("ct"),
        "rgb_accuracy": side_accuracy("rgb"),
        "elapsed_s": round(elapsed_s, 2),
        "items_per_s": round(len(records) / elapsed_s, 3) if elapsed_s > 0 else None,
        "pairs_per_s": round(n_pairs / elapsed_s, 3) if elapsed_s > 0 and n_pairs else None,
    }


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="inspect a folder or a dataset manifest; JSONL + summary out",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("source", help="dataset folder / manifest.csv, or a folder of images")
    p.add_argument("--out", required=True, help="JSONL file, one inspection per line")
    p.add_argument("--summary", help="summary JSON (default: OUT with .summary.json)")
    p.add_argument("--split", default="test", help="manifest split, or 'all' (default: test)")
    p.add_argument("--paired-only", action="store_true", help="only CT+RGB pairs of a manifest")
    p.add_argument("--modality", choices=("ct", "rgb"), help="modality of a flat image folder")
    p.add_argument("--limit", type=int, help="inspect at most N items")
    add_backend_arguments(p, default_vlm="none", default_vlg="none")
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: one process; ray: Ray Data actor pool, models loaded once per actor (default: local)",
    )
    p.add_argument("--workers", type=int, help="ray: actors, one CPU each (default: the cluster's CPUs)")
    p.add_argument("--address", help="ray: an existing cluster (default: start a local one)")
    p.set_defaults(func=run)


def run_local(items: list[BatchItem], settings: Any, sides: tuple[str, ...], lang: str) -> Iterator[dict[str, Any]]:
    """The ``local`` engine: load the models once and inspect the items one after the other."""
    from inspector.pipeline import Inspector

    inspector = Inspector.load(settings, sides=sides)
    for item in items:
        yield inspect_item(inspector, item, lang)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    items = collect_items(args)
    sides = tuple(s for s in ("ct", "rgb") if any(getattr(it, f"{s}_path") for it in items))
    settings = settings_from_args(args)
    if args.engine == "ray":
        from inspector.commands._batch_ray import run_ray

        stream = run_ray(items, settings, sides, args.lang, workers=args.workers, address=args.address)
    else:
        stream = run_local(items, settings, sides, args.lang)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    start = time.perf_counter()
    with out.open("w", encoding="utf-8") as fh:
        progress = tqdm(total=len(items), desc=f"inspect ({args.engine})", unit="item", file=sys.stderr, dynamic_ncols=True)
        with progress:
            for record in stream:
                records.append(record)
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                progress.update(1)
    summary = summarise(records, items, time.perf_counter() - start)
    summary["engine"] = args.engine
    summary_path = Path(args.summary) if args.summary else out.with_suffix(".summary.json")
    summary_path.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    for record in records:
        if "error" in record:
            log.warning("%s: %s", record["id"], record["error"])
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0
