"""A short browser soak in the slow suite: 2 sessions x 3 inspections of the shipped sample pairs,
concurrently, with 0 errors and every report naming its own session's uploads (no leakage).
The full 4 x 25 soak is ``python -m benchmarks.soak_browser``."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.soak_browser import soak
from inspector.ui.browser import CHROMIUM


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_short_browser_soak():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing (run `make browser`)")
    pytest.importorskip("playwright.async_api")
    figures = asyncio.run(soak(sessions=2, inspections=3, timeout_s=180))
    assert figures["errors"] == [] and figures["warmup_errors"] == [], figures
    assert figures["completed"] == 6
    assert figures["server_rss_mb_end"] > 0
