"""What the app can offer without an upload: shipped model cards, sample images, evaluation files.

Locations come from environment variables so tests and deployments can point elsewhere:
``INSPECTOR_CHECKPOINTS_DIR``, ``INSPECTOR_ASSETS_DIR`` and ``INSPECTOR_DOCS_DIR``; by default
the ``checkpoints``, ``assets`` and ``docs`` folders of this source tree.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.settings import DEFAULT_CHECKPOINTS_DIR

log = logging.getLogger(__name__)

PROJECT_ROOT = DEFAULT_CHECKPOINTS_DIR.parent

CHECKPOINTS_ENV = "INSPECTOR_CHECKPOINTS_DIR"
ASSETS_ENV = "INSPECTOR_ASSETS_DIR"
DOCS_ENV = "INSPECTOR_DOCS_DIR"
ARTIFACT_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".svg", ".md", ".json", ".csv")


def checkpoints_dir() -> Path:
    """Folder of the shipped checkpoints (``INSPECTOR_CHECKPOINTS_DIR`` or ``checkpoints/``)."""
    return Path(os.environ.get(CHECKPOINTS_ENV) or DEFAULT_CHECKPOINTS_DIR)


def assets_dir() -> Path:
    """Folder of the bundled sample images (``INSPECTOR_ASSETS_DIR`` or ``assets/``)."""
    return Path(os.environ.get(ASSETS_ENV) or PROJECT_ROOT / "assets")


def docs_dir() -> Path:
    """Folder of the documentation and evaluation artefacts (``INSPECTOR_DOCS_DIR`` or ``docs/``)."""
    return Path(os.environ.get(DOCS_ENV) or PROJECT_ROOT / "docs")


@dataclass(frozen=True)
class ModelCard:
    """A checkpoint's JSON card and where it lives."""

    name: str
    path: Path
    card: dict[str, Any] = field(hash=False, compare=False)

    @property
    def task(self) -> str:
        return str(self.card.get("task", ""))

    @property
    def is_default(self) -> bool:
        return bool(self.card.get("default"))

    @property
    def weights(self) -> Path:
        return self.path.with_suffix(".safetensors")


def list_cards(folder: Path | None = None, tasks: tuple[str, ...] | None = None) -> list[ModelCard]:
    """Model cards in ``folder`` whose weights exist, defaults first, then by name.

    Args:
        folder: where to look; defaults to :func:`checkpoints_dir`.
        tasks: keep only these tasks (``ct``, ``rgb``, ``gain``); ``None`` keeps all.

    Returns:
        The readable cards; unreadable JSON files are skipped with a warning.
    """
    folder = folder or checkpoints_dir()
    cards = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            card = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("skipping unreadable model card %s: %s", path, exc)
            continue
        if not isinstance(card, dict) or "task" not in card:
            continue
        if tasks is not None and card["task"] not in tasks:
            continue
        if not path.with_suffix(".safetensors").is_file():
            log.warning("model card %s has no weights next to it", path)
            continue
        cards.append(ModelCard(name=path.stem, path=path, card=card))
    return sorted(cards, key=lambda c: (c.task, not c.is_default, c.name))


def default_card(cards: list[ModelCard], task: str) -> ModelCard | None:
    """The card of ``task`` marked ``default: true``, else the first one of that task."""
    of_task = [c for c in cards if c.task == task]
    return next((c for c in of_task if c.is_default), of_task[0] if of_task else None)


@dataclass(frozen=True)
class Sample:
    """A bundled example: a CT image, an RGB image or a pair of the same battery."""

    key: str
    ct_path: Path | None
    rgb_path: Path | None
    battery_type: str = "cell"
    axis: str = "x"
    labels: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        parts = [p.name for p in (self.ct_path, self.rgb_path) if p is not None]
        label = "/".join(self.labels)
        return f"{self.key}: {' + '.join(parts)}" + (f" [{label}]" if label else "")


def list_samples(folder: Path | None = None) -> list[Sample]:
    """Samples from ``folder/manifest.csv``: rows sharing a ``pair_id`` become one CT+RGB sample;
    rows without one are paired by ``battery_id`` (CT and RGB images of one battery, in order).

    Returns:
        The samples whose image files exist (an absent or unreadable manifest gives ``[]``).
    """
    folder = folder or assets_dir()
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        return []
    try:
        with manifest.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        log.warning("cannot read %s: %s", manifest, exc)
        return []
    groups: dict[str, list[dict[str, str]]] = {}
    loose: dict[str, dict[str, list[dict[str, str]]]] = {}  # battery_id -> modality -> rows
    for index, row in enumerate(rows):
        if not (folder / (row.get("image_path") or "")).is_file():
            continue
        pair = (row.get("pair_id") or "").strip()
        if pair:
            groups.setdefault(pair, []).append(row)
        else:
            battery = (row.get("battery_id") or "").strip() or f"row{index}"
            loose.setdefault(battery, {}).setdefault(row.get("modality", ""), []).append(row)
    # without a pair_id, CT and RGB images of the same battery are paired in file order
    for battery, by_modality in loose.items():
        cts, rgbs = by_modality.get("ct", []), by_modality.get("rgb", [])
        for index in range(max(len(cts), len(rgbs))):
            members = [r[index] for r in (cts, rgbs) if index < len(r)]
            groups[f"{battery}#{index + 1}"] = members
    samples = []
    for key, members in groups.items():
        ct = next((r for r in members if r.get("modality") == "ct"), None)
        rgb = next((r for r in members if r.get("modality") == "rgb"), None)
        if ct is None and rgb is None:
            continue
        meta = ct or rgb
        samples.append(
            Sample(
                key=key,
                ct_path=folder / ct["image_path"] if ct else None,
                rgb_path=folder / rgb["image_path"] if rgb else None,
                battery_type=(meta.get("battery_type") or "cell").strip() or "cell",
                axis=((ct or {}).get("axis") or "x").strip() or "x",
                labels=tuple(r.get("label", "") for r in (ct, rgb) if r and r.get("label")),
            )
        )
    # pairs first: they show the whole three-way comparison
    return sorted(samples, key=lambda s: (s.ct_path is None or s.rgb_path is None, s.key))


def list_artifacts(folder: Path) -> list[Path]:
    """Evaluation artefacts (pictures, Markdown, JSON, CSV) directly in ``folder``, by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in ARTIFACT_SUFFIXES)
