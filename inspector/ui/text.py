"""Model-written text is untrusted: show it as plain text, never as Markdown or HTML."""

from __future__ import annotations

import re

__all__ = ["escape_markdown"]

# Every character Streamlit's Markdown gives a meaning to (links, images, emphasis, code,
# headings, tables, HTML, Streamlit's :colour[...] and :material/...: directives).
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&=])")


def escape_markdown(text: object) -> str:
    """``text`` with every Markdown/HTML control character backslash-escaped and lines joined.

    A prompt-injected answer such as ``![x](http://evil/p.png)`` or ``<img src=...>`` then shows
    literally instead of placing an image or a link in the page.
    """
    flat = " ".join(str("" if text is None else text).split())
    return _SPECIAL.sub(r"\\\1", flat)
