"""Evaluation artefacts on disk (figures, Markdown reports, JSON/CSV tables) and how to show them.

Nothing is hard-coded: a model's artefacts are the files next to its card whose name starts
with the card's name, and any folder named after the card in the checkpoints or docs folder;
reports are the Markdown files in the docs folder and its ``*/report.md`` files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from inspector.ui.catalog import ARTIFACT_SUFFIXES, ModelCard, list_artifacts

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".svg")
NOT_REPORTS: tuple[str, ...] = ("readme", "developing", "contributing", "changelog", "license")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def card_artifacts(card: ModelCard, roots: list[Path]) -> list[Path]:
    """Files that belong to ``card``: ``<name>*`` next to it and ``<root>/**/<name>/*`` folders."""
    found = [p for p in list_artifacts(card.path.parent) if p.stem.startswith(card.name) and p != card.path]
    for root in roots:
        if root.is_dir():
            for folder in sorted(root.glob(f"**/{card.name}")):
                if folder.is_dir():
                    found += list_artifacts(folder)
    return list(dict.fromkeys(found))


def report_files(docs: Path, skip: tuple[Path, ...] = ()) -> list[Path]:
    """The model documentation and evaluation reports in ``docs``.

    That is every Markdown file directly in ``docs`` (except the project's README-like files)
    and every ``docs/<folder>/report.md``; folders in ``skip`` are left out.
    """
    if not docs.is_dir():
        return []
    skipped = {p.resolve() for p in skip}
    found = [p for p in sorted(docs.glob("*.md")) if p.stem.lower() not in NOT_REPORTS]
    found += [p for p in sorted(docs.glob("*/report.md")) if p.parent.resolve() not in skipped]
    return found


def split_markdown(text: str, base: Path) -> list[str | tuple[str, Path]]:
    """Split Markdown at local image links so the images can be shown from disk.

    Returns:
        Text chunks and ``(caption, path)`` items, in order. Links to missing files or URLs
        stay in the text.
    """
    parts: list[str | tuple[str, Path]] = []
    cursor = 0
    for match in _MD_IMAGE.finditer(text):
        target = match.group(2)
        path = (base / target).resolve()
        if "://" in target or not path.is_file():
            continue
        parts.append(text[cursor : match.start()])
        parts.append((match.group(1), path))
        cursor = match.end()
    parts.append(text[cursor:])
    return [p for p in parts if not isinstance(p, str) or p.strip()]


def show(path: Path) -> None:
    """Show one artefact under its file name: picture, Markdown (with its images), table or JSON."""
    suffix = path.suffix.lower()
    if suffix not in ARTIFACT_SUFFIXES:
        return
    st.caption(path.name)
    if suffix in IMAGE_SUFFIXES:
        st.image(str(path))
    elif suffix == ".md":
        for part in split_markdown(path.read_text(encoding="utf-8"), path.parent):
            if isinstance(part, str):
                st.markdown(part)
            else:
                st.image(str(part[1]), caption=part[0] or None)
    elif suffix == ".csv":
        st.dataframe(pd.read_csv(path), hide_index=True)
    elif suffix == ".json":
        _show_json(path)


def _show_json(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError:
        st.code(text[:5000])
        return
    table = _as_table(data)
    if table is not None:
        st.dataframe(table, hide_index=table.index.name is None)
    else:
        st.json(data, expanded=False)


def _as_table(data: object) -> pd.DataFrame | None:
    """A list of records or a mapping of records as a table (else ``None``)."""
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return pd.json_normalize(data)
    if isinstance(data, dict) and data and all(isinstance(r, dict) for r in data.values()):
        frame = pd.json_normalize(list(data.values()))
        frame.index = pd.Index(list(data), name="name")
        return frame
    return None
