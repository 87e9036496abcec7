"""The app's pages: one ``st.Page`` per file in ``pages/``, titled in the session's language.

Pages are addressed by absolute path (the ``pages/`` folder next to ``app.py``), so the app
works whatever the working directory, and pages switch to each other by key, e.g.
``switch_to("summary")``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from inspector.ui.state import t

# key -> (icon, url path); the key is also the file name in pages/ and the i18n "page.<key>"
PAGES: dict[str, str] = {
    "inspect": ":material/upload_file:",
    "summary": ":material/dashboard:",
    "detail": ":material/search_insights:",
    "history": ":material/history:",
    "models": ":material/model_training:",
    "batch": ":material/stacks:",
    "compare": ":material/compare:",
    "adapt": ":material/tune:",
}
_root: Path | None = None


def build(pages_dir: Path) -> list[st.Page]:
    """Create the pages from ``pages_dir`` (the first one is the default) and remember the folder."""
    global _root
    _root = pages_dir.resolve()
    return [page(key) for key in PAGES]


def page(key: str) -> st.Page:
    """The ``st.Page`` of ``pages/<key>.py``."""
    if _root is None:
        raise RuntimeError("navigation.build() must run before navigation.page()")
    return st.Page(
        _root / f"{key}.py",
        title=t(f"page.{key}"),
        icon=PAGES[key],
        url_path=key,
        default=key == next(iter(PAGES)),
    )


def switch_to(key: str) -> None:
    """Open another page (ends the current script run)."""
    st.switch_page(page(key))


def link(key: str, label: str | None = None, icon: str | None = None) -> None:
    """A link to another page (by default labelled with the page's name in the session's language)."""
    st.page_link(page(key), label=label or t(f"page.{key}"), icon=icon or PAGES[key])
