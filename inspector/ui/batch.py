"""Batch inspection: many files (or ZIP archives) in, one verdict row per battery out.

Files are grouped by name: ``X_ct.png`` and ``X_rgb.jpg`` become one CT+RGB battery ``X``;
any other file is one battery on its own, inspected as CT when it is grayscale and as RGB when
it has colour. Only the inspector runs (no VLM/VLG), so a batch is fast and deterministic.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from core.errors import InputError, InspectorError
from core.imageio import load_image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm", ".bmp", ".webp", ".gif")
MAX_ITEMS = 500
#: Image files one batch may hold (a CT and an RGB file per battery), archives included.
MAX_FILES = 2 * MAX_ITEMS
MAX_ZIP_BYTES = 512 * 1024 * 1024  # total uncompressed size accepted from archives
#: Largest single image accepted from an archive (the same limit as a direct upload).
MAX_MEMBER_BYTES = 25 * 1024 * 1024
#: Largest total size of the files one batch run uploads (archives counted compressed).
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024
#: Batch runs that may inspect at the same time in this process (all sessions together).
MAX_CONCURRENT_BATCHES = 2
_BATCH_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_BATCHES)
_ROLE = re.compile(r"^(?P<stem>.+?)[_\-. ](?P<role>ct|rgb)$", re.IGNORECASE)


@dataclass
class BatchItem:
    """One battery of a batch: its CT and/or RGB file (name, bytes) or an unassigned file."""

    key: str
    ct: tuple[str, bytes] | None = None
    rgb: tuple[str, bytes] | None = None
    unknown: tuple[str, bytes] | None = None


def check_uploads(sizes: Iterable[tuple[str, int]]) -> None:
    """Refuse a batch by its file count and sizes alone, before any file is read.

    Args:
        sizes: ``(name, size in bytes)`` of every uploaded file.

    Raises:
        InputError: more than :data:`MAX_FILES` files or :data:`MAX_UPLOAD_BYTES` in total.
    """
    sizes = list(sizes)
    if len(sizes) > MAX_FILES:
        raise InputError(f"A batch takes at most {MAX_FILES} files; {len(sizes)} were given.")
    total = sum(int(size) for _, size in sizes)
    if total > MAX_UPLOAD_BYTES:
        raise InputError(
            f"A batch takes at most {MAX_UPLOAD_BYTES // 2**20} MiB of files; {total / 2**20:.0f} MiB were given."
        )


@contextmanager
def batch_slot() -> Iterator[None]:
    """Hold one of the :data:`MAX_CONCURRENT_BATCHES` process-wide batch slots.

    Raises:
        InputError: every slot is taken (other sessions are running batches right now).
    """
    if not _BATCH_SLOTS.acquire(blocking=False):
        raise InputError(
            f"{MAX_CONCURRENT_BATCHES} batches are already running on this server; try again in a moment."
        )
    try:
        yield
    finally:
        _BATCH_SLOTS.release()


def expand(files: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Unpack ZIP archives and keep image files only.

    Archives are checked from their central directory (member count, declared sizes) before
    any member is decompressed.

    Raises:
        InputError: an archive is corrupt, holds more than :data:`MAX_FILES` images, one larger
            than :data:`MAX_MEMBER_BYTES`, or unpacks to more than :data:`MAX_ZIP_BYTES`.
    """
    out: list[tuple[str, bytes]] = []
    for name, data in files:
        if name.lower().endswith(".zip"):
            out += _unzip(name, data, MAX_FILES - len(out))
        elif name.lower().endswith(IMAGE_SUFFIXES):
            out.append((PurePosixPath(name).name, data))
        else:
            log.info("batch: skipping %s (not an image)", name)
    return out


def group(files: Iterable[tuple[str, bytes]]) -> list[BatchItem]:
    """Pair ``*_ct`` / ``*_rgb`` files of the same stem; every other file is its own item."""
    items: dict[str, BatchItem] = {}
    for name, data in files:
        stem = PurePosixPath(name).stem
        match = _ROLE.match(stem)
        if match:
            key, role = match["stem"], match["role"].lower()
            item = items.setdefault(key, BatchItem(key))
            if getattr(item, role) is None:
                setattr(item, role, (name, data))
                continue
        key = stem if stem not in items else name
        items[key] = BatchItem(key, unknown=(name, data))
    return list(items.values())


def decode_item(item: BatchItem) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Decode an item's images; an unassigned file becomes CT if grayscale, else RGB.

    Raises:
        InputError: a file is not a valid image.
    """
    ct = load_image(item.ct[1], "ct", name=item.ct[0]) if item.ct else None
    rgb = load_image(item.rgb[1], "rgb", name=item.rgb[0]) if item.rgb else None
    if item.unknown is not None:
        name, data = item.unknown
        colour = load_image(data, "rgb", name=name)
        if np.array_equal(colour[..., 0], colour[..., 1]) and np.array_equal(colour[..., 1], colour[..., 2]):
            item.ct, ct = item.unknown, load_image(data, "ct", name=name)
        else:
            item.rgb, rgb = item.unknown, colour
    return ct, rgb


def run_batch(
    items: list[BatchItem],
    analyse: Callable[..., Any],
    battery_type: str = "cell",
    axis: str = "x",
    on_progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Inspect every item; a bad file gives a row with its error instead of stopping the batch.

    Args:
        items: from :func:`group`.
        analyse: ``Inspector.analyse``-like callable ``(ct, rgb, battery_type, axis) -> Evidence``.
        battery_type: CT metadata used for every CT image.
        axis: CT metadata used for every CT image.
        on_progress: called with ``(done, total)`` after each item.

    Returns:
        Rows ``{item, ct_file, rgb_file, verdict, confidence, ct_label, rgb_score, error}``.
    """
    rows = []
    for index, item in enumerate(items, start=1):
        row: dict[str, Any] = {
            "item": item.key,
            "ct_file": None,
            "rgb_file": None,
            "verdict": None,
            "confidence": None,
            "ct_label": None,
            "rgb_score": None,
            "error": None,
        }
        try:
            ct, rgb = decode_item(item)
            row["ct_file"] = item.ct[0] if item.ct else None
            row["rgb_file"] = item.rgb[0] if item.rgb else None
            result = analyse(ct, rgb, battery_type, axis).to_dict()
            row.update(verdict=result["verdict"], confidence=result["confidence"])
            row["ct_label"] = (result.get("ct") or {}).get("label")
            row["rgb_score"] = (result.get("rgb") or {}).get("score")
        except InspectorError as exc:
            row["error"] = str(exc)
        except Exception as exc:  # one broken file must not end the batch
            log.exception("batch item %s failed", item.key)
            row["error"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
        if on_progress is not None:
            on_progress(index, len(items))
    return rows


def _unzip(name: str, data: bytes, room: int = MAX_FILES) -> list[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InputError(f"{name} is not a valid ZIP archive.") from exc
    with archive:
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir()
            and m.filename.lower().endswith(IMAGE_SUFFIXES)
            and not any(part.startswith((".", "__MACOSX")) for part in PurePosixPath(m.filename).parts)
        ]
        if len(members) > room:
            raise InputError(f"{name} holds {len(members)} images; a batch takes at most {MAX_FILES} files.")
        big = next((m for m in members if m.file_size > MAX_MEMBER_BYTES), None)
        if big is not None:
            raise InputError(
                f"{name} holds an image larger than {MAX_MEMBER_BYTES // 2**20} MiB "
                f"({PurePosixPath(big.filename).name!r})."
            )
        if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise InputError(f"{name} unpacks to more than {MAX_ZIP_BYTES // 2**20} MiB of images.")
        try:
            return [(PurePosixPath(m.filename).name, archive.read(m)) for m in members]
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InputError(f"{name} is a damaged ZIP archive ({exc}).") from exc
