"""Re-draw part of a page while an inspection's VLM/VLG are still running."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from inspector.ui.guard import page_guard
from inspector.ui.runner import InspectionJob


def _flag(name: str) -> str:
    return f"_polling_{name}"


def settled(job: InspectionJob, name: str) -> bool:
    """``True`` once ``job`` is done and its live part ``name`` has had its last full run.

    Until then the part is redrawn every poll and once more when the job finishes; an element
    that must stay put while the user acts on it (a download: its URL belongs to one run, and a
    redraw cancels a download in flight) should wait for this.
    """
    return job.done and st.session_state.get(_flag(name)) != job.key


def live_fragment(job: InspectionJob, render: Callable[[], None], seconds: float, name: str) -> None:
    """Run ``render`` now and, while ``job`` has backends pending, every ``seconds`` again.

    Once the job is done the fragment triggers one full re-run, which rebuilds it without a
    timer, so a finished page stops polling.

    Args:
        job: the inspection being shown.
        render: draws the live part of the page (errors are shown in the page, not raised).
        seconds: polling interval.
        name: distinguishes several live parts of one page.
    """
    flag = _flag(name)

    @st.fragment(run_every=None if job.done else seconds)
    def fragment() -> None:
        finished = job.done  # read before drawing, so a result landing meanwhile is not missed
        with page_guard():
            render()
        if finished and st.session_state.get(flag) == job.key:
            del st.session_state[flag]
            st.rerun()

    if not job.done:
        st.session_state[flag] = job.key
    fragment()
