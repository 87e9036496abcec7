"""Model-written text is shown literally (inspector.ui.text)."""

from __future__ import annotations

import re

from inspector.ui.text import escape_markdown


def test_links_images_html_and_directives_are_neutralised() -> None:
    hostile = "Normal. ![x](http://evil.example/p.png) [click](http://evil.example) <img src=x> :red[ALERT] **bold**"
    out = escape_markdown(hostile)
    # no control character is left unescaped
    assert re.search(r"(?<!\\)[\[\]()<>!*:]", out) is None
    assert "**bold**" not in out
    assert out.replace("\\", "") == hostile  # nothing is lost, only escaped


def test_newlines_cannot_start_markdown_blocks() -> None:
    assert "\n" not in escape_markdown("fine\n# heading\n- item")
