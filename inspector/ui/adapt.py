"""Adapt to my line: fit an RGB detector on the user's normal photos from the app.

The page (``pages/adapt.py``) only draws; everything it does is here, testable without
Streamlit: where photos may come from (uploads bounded by :mod:`inspector.ui.batch`, or a server
folder under :func:`adapt_root`), the fit itself (:func:`training.tasks.rgb.adapt.fit_detector`
with the files it skipped collected by name), the false-alarm rate of the current RGB model on
the same normals, and installing the fitted checkpoint into the checkpoints folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from core.errors import InputError
from inspector.ui import batch
from inspector.ui.catalog import PROJECT_ROOT, checkpoints_dir

log = logging.getLogger(__name__)

#: Environment variable naming the only folder (and its sub-folders) the page may read photos from.
ADAPT_ROOT_ENV = "INSPECTOR_ADAPT_ROOT"
#: Photo suffixes the fitting library reads (a subset of the batch uploader's).
PHOTO_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")
FALSE_ALARM_MIN = 0.001
FALSE_ALARM_MAX = 0.2
FALSE_ALARM_DEFAULT = 0.01
#: Fits that may run at the same time in this process (all sessions together): fitting is CPU-bound.
MAX_CONCURRENT_FITS = 1
#: Normals scored by the current RGB model for the "before" false-alarm rate (at most).
MAX_BEFORE_PHOTOS = 200
_FIT_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_FITS)
_FIT_LOGGER = "training.tasks.rgb.adapt"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

Progress = Callable[[float, str], None]


@dataclass
class FitOutcome:
    """What one fit gave the page.

    Attributes:
        card: The card :func:`training.tasks.rgb.adapt.fit_detector` returned (``checkpoint``: the
            staged ``.safetensors``).
        skipped: ``(file name, reason)`` of every photo that could not be read.
        warnings: Other warnings of the fit (e.g. no backbone weights), one sentence each.
        before_false_alarm: Share of the normals the current RGB model flags (``None``: no model).
        before_model: Name of that model's checkpoint.
    """

    card: dict[str, Any]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    before_false_alarm: float | None = None
    before_model: str | None = None

    @property
    def metrics(self) -> dict[str, Any]:
        """The card's fitting metrics (held-out false alarms, recall, histogram, ...)."""
        return self.card.get("metrics") or {}


def adapt_root() -> Path:
    """The folder server paths must lie in: ``$INSPECTOR_ADAPT_ROOT``, else ``data/`` of the source tree."""
    return Path(os.environ.get(ADAPT_ROOT_ENV) or PROJECT_ROOT / "data").expanduser().resolve()


def resolve_folder(text: str, root: Path | None = None) -> Path:
    """The server folder a user typed, if it lies under ``root`` (:func:`adapt_root`).

    A relative path is read relative to ``root``; links are resolved before the check, so no
    ``..`` or symlink leads outside.

    Raises:
        InputError: empty, outside ``root``, or not an existing folder.
    """
    root = (root or adapt_root()).resolve()
    text = (text or "").strip()
    if not text:
        raise InputError("Type a folder of photos.")
    path = Path(text).expanduser()
    path = (path if path.is_absolute() else root / path).resolve()
    if not path.is_relative_to(root):
        raise InputError(f"Only folders under {root} can be used; {text!r} is outside it.")
    if not path.is_dir():
        raise InputError(f"{text!r} is not a folder under {root}.")
    return path


def feature_detectors() -> list[str]:
    """Registered RGB models that ``fit rgb`` can fit (feature-based detectors), by registry order."""
    from models.rgb_ae import RGB_MODELS
    from models.rgb_ae._features import FeatureDetector

    names = []
    for name in RGB_MODELS.names():
        try:
            returns = typing.get_type_hints(RGB_MODELS.get(name)).get("return")
        except Exception:  # noqa: BLE001 - an odd annotation only hides that entry
            continue
        if isinstance(returns, type) and issubclass(returns, FeatureDetector):
            names.append(name)
    return names


def default_detector(names: Sequence[str]) -> str | None:
    """``patchcore`` when registered (the ``fit rgb`` default), else the first detector."""
    return "patchcore" if "patchcore" in names else (names[0] if names else None)


def stage_uploads(
    files: Iterable[tuple[str, int, Callable[[], bytes]]], folder: Path, prefix: str = ""
) -> dict[str, str]:
    """Check uploads by size, unpack ZIPs and write the photos into ``folder``.

    Args:
        files: ``(name, size in bytes, read)`` of every upload; nothing is read before the sizes
            pass :func:`inspector.ui.batch.check_uploads`.
        folder: Where the photos go (created).
        prefix: Start of every written name (keeps the names of two folders apart).

    Returns:
        ``{written file name: name the user gave}`` (written names are unique and safe).

    Raises:
        InputError: too many or too large files, a bad archive (see :func:`inspector.ui.batch.expand`).
    """
    files = list(files)
    batch.check_uploads((name, size) for name, size, _ in files)
    photos = batch.expand((name, read()) for name, _, read in files)
    folder.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for index, (name, data) in enumerate(photos):
        original = PurePosixPath(name).name
        stem, suffix = PurePosixPath(original).stem, PurePosixPath(original).suffix.lower()
        if suffix not in PHOTO_SUFFIXES:
            suffix = suffix or ".img"  # still written, so the fit reports it as unreadable
        written = f"{prefix}{index:04d}_{_UNSAFE.sub('_', stem)[:60]}{suffix}"
        (folder / written).write_bytes(data)
        names[written] = original
    return names


def unsupported(names: dict[str, str]) -> list[tuple[str, str]]:
    """Staged files the fitting library does not read (e.g. GIF, DICOM), as ``(name, reason)``."""
    return [
        (original, "not a PNG/JPEG/TIFF/WebP photo")
        for written, original in names.items()
        if PurePosixPath(written).suffix.lower() not in PHOTO_SUFFIXES
    ]


@contextmanager
def fit_slot() -> Iterator[None]:
    """Hold the process-wide fitting slot.

    Raises:
        InputError: another session is fitting right now.
    """
    if not _FIT_SLOTS.acquire(blocking=False):
        raise InputError("Another detector is being fitted on this server; try again in a few minutes.")
    try:
        yield
    finally:
        _FIT_SLOTS.release()


class _Collect(logging.Handler):
    """Warnings of the fitting library logged by this thread (other sessions fit in other threads)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.records.append(record)


def fit(
    normals: Path,
    out_dir: Path,
    *,
    detector: str,
    false_alarm: float,
    defects: Path | None = None,
    names: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> FitOutcome:
    """Fit ``detector`` on the photos of ``normals`` (and ``defects``) into ``out_dir``.

    Args:
        normals: Folder of normal photos (any nesting).
        out_dir: Where the checkpoint + card are written.
        detector: Registered feature detector.
        false_alarm: Target false-alarm rate (used without defect photos).
        defects: Optional folder of defect photos (threshold by Youden's J).
        names: ``{staged file name: the user's name}`` to report skipped uploads by their own name.
        progress: ``callback(fraction, message)``.

    Raises:
        InputError: a bad option or too few readable photos (one sentence).
        CheckpointError: unreadable backbone weights.
    """
    from training.tasks.rgb import adapt as fitting

    if not FALSE_ALARM_MIN <= false_alarm <= FALSE_ALARM_MAX:
        raise InputError(f"The false-alarm rate must be between {FALSE_ALARM_MIN} and {FALSE_ALARM_MAX}.")
    names = names or {}
    handler = _Collect()
    logger = logging.getLogger(_FIT_LOGGER)
    logger.addHandler(handler)
    try:
        card = fitting.fit_detector(
            normals,
            out_dir,
            defects=defects,
            config=fitting.FitConfig(detector=detector, false_alarm=float(false_alarm)),
            progress=progress,
        )
    finally:
        logger.removeHandler(handler)
    outcome = FitOutcome(card=card)
    for record in handler.records:
        if record.msg.startswith("skipping") and isinstance(record.args, tuple) and len(record.args) == 2:
            path, reason = Path(record.args[0]), str(record.args[1])
            shown = names.get(path.name) or _shown(path, normals, defects)
            outcome.skipped.append((shown, reason.replace(path.name, shown)))
        else:
            outcome.warnings.append(record.getMessage().split("\n")[0])
    return outcome


def false_alarm_rate(flags: Callable[[Any], bool] | None, photos: Sequence[Path]) -> float | None:
    """Share of ``photos`` (normals) that ``flags`` calls defective; unreadable photos are left out.

    Args:
        flags: ``flags(uint8 RGB image) -> is_defect`` of the current RGB model, or ``None``.
        photos: The normal photos (at most :data:`MAX_BEFORE_PHOTOS` are scored, evenly spread).

    Returns:
        The rate, or ``None`` without a model or without a readable photo.
    """
    if flags is None:
        return None
    from core.imageio import load_image

    if len(photos) > MAX_BEFORE_PHOTOS:
        step = len(photos) / MAX_BEFORE_PHOTOS
        photos = [photos[int(i * step)] for i in range(MAX_BEFORE_PHOTOS)]
    flagged = scored = 0
    for path in photos:
        try:
            image = load_image(path, "rgb", max_bytes=batch.MAX_MEMBER_BYTES)
            flagged += bool(flags(image))
        except Exception as exc:  # noqa: BLE001 - the fit reports unreadable files by name
            log.info("before-rate: skipping %s (%s)", path.name, type(exc).__name__)
            continue
        scored += 1
    return flagged / scored if scored else None


def normal_photos(folder: Path) -> list[Path]:
    """The normal photos ``fit rgb`` reads from ``folder`` (a folder of photos or a dataset)."""
    from training.tasks.rgb.adapt import collect_photos

    return collect_photos(folder, "normal")


def install(card: dict[str, Any], folder: Path | None = None, now: datetime | None = None) -> str:
    """Copy a fitted checkpoint into the checkpoints folder under a new, unique name.

    The name is ``rgb_adapted_<detector>_<UTC time>`` (a suffix is added if taken); the card is
    copied unchanged except that it is never the folder's default and says where it came from.

    Args:
        card: The fit's card (``checkpoint``: its ``.safetensors``).
        folder: Destination (default :func:`inspector.ui.catalog.checkpoints_dir`).
        now: The time in the name (default: now, UTC).

    Returns:
        The installed checkpoint's name (the card's stem), as the RGB model select box lists it.

    Raises:
        InputError: the fitted files are gone (e.g. the server restarted) or cannot be copied.
    """
    weights = Path(str(card.get("checkpoint") or ""))
    source_card = weights.with_suffix(".json")
    if not (weights.is_file() and source_card.is_file()):
        raise InputError("The fitted model is no longer on the server; press Fit again.")
    folder = folder or checkpoints_dir()
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    detector = _UNSAFE.sub("_", str(card.get("architecture") or "detector"))
    stem, n = f"rgb_adapted_{detector}_{stamp}", 1
    while (folder / f"{stem}.json").exists() or (folder / f"{stem}.safetensors").exists():
        n += 1
        stem = f"rgb_adapted_{detector}_{stamp}_{n}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = json.loads(source_card.read_text(encoding="utf-8"))
        written.update(default=False, adapted={"installed": stamp, "from": "Adapt to my line"})
        shutil.copyfile(weights, folder / f"{stem}.safetensors")
        # the card last: the model lists only cards whose weights are already there
        (folder / f"{stem}.json").write_text(json.dumps(written, indent=1), encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"Cannot write the model into {folder}: {exc.strerror or type(exc).__name__}."
        ) from exc
    log.info("installed the adapted RGB model %s into %s", stem, folder)
    return stem


def new_workdir() -> Path:
    """A fresh private folder for one fit (uploads, staged checkpoint)."""
    return Path(tempfile.mkdtemp(prefix="inspector_adapt_"))


def remove_workdir(path: Path | str | None) -> None:
    """Delete a folder made by :func:`new_workdir` (anything else is left alone)."""
    if path and Path(path).name.startswith("inspector_adapt_"):
        shutil.rmtree(path, ignore_errors=True)


def _shown(path: Path, *roots: Path | None) -> str:
    for root in roots:
        if root is not None and path.is_relative_to(root):
            return str(path.relative_to(root))
    return path.name
