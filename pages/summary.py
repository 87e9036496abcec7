"""Summary page: Inspector | VLM | VLG side by side, the final report card underneath.

The inspector column and the verdict are drawn at once; the VLM and VLG columns and the
report card live in a fragment that re-runs every half second until both backends answered.
"""

import streamlit as st

from core.errors import InspectorError
from inspector.i18n import verdict_bilingual
from inspector.ui import navigation, panels, state
from inspector.ui.live import live_fragment, settled
from inspector.ui.state import t

POLL_SECONDS = 0.5
LIVE_PART = "summary"


def main() -> None:
    """Run a pending inspection, then render the session's current one (or point to Inspect)."""
    st.title(t("summary.title"))
    if state.pending() is not None and not _run_pending():
        navigation.link("inspect")
        return
    job = state.current()
    if job is None:
        st.info(t("summary.empty"))
        navigation.link("inspect")
        return
    # A link, not a button + st.switch_page: a server-side switch clicked while the finished page
    # was still redrawing left the Inspect page blank for minutes under a 4-session soak; a link
    # navigates like the sidebar does. The shown inspection stays current until Run replaces it.
    navigation.link("inspect", label=t("summary.new_inspection"), icon=":material/add_a_photo:")

    def render() -> None:
        # Every element is created inside the fragment: a fragment run that writes into a
        # container made outside it fails when the last full run was cut short before the
        # fragment reached that container (seen under a 4-session browser soak).
        inspection = job.snapshot()
        threshold = panels.vlg_threshold(job, inspection)
        pictures = panels.boxed_images(job, inspection, threshold)
        columns = st.columns([1.25, 1, 1], gap="medium")
        with columns[0]:
            panels.inspector_panel(job, inspection, pictures)
        with columns[1]:
            panels.vlm_panel(job, inspection, pictures=pictures)
        with columns[2]:
            panels.vlg_panel(job, inspection, pictures)
        panels.systems_table(job, inspection, threshold)
        with st.container(border=True):
            panels.report_card(job, inspection, pictures, downloadable=settled(job, LIVE_PART))

    live_fragment(job, render, POLL_SECONDS, LIVE_PART)


def _run_pending() -> bool:
    """Inspect the images Run handed over, with a live status; ``False`` if it failed.

    The request is dropped once handled, but survives a run that Streamlit interrupts (that
    is a ``BaseException``, which the ``except`` clauses let through).
    """
    request = state.pending()
    with st.status(t("inspect.status_running"), expanded=True) as status:
        st.write(t("inspect.status_inspector"))
        try:
            job = request.run()
        except InspectorError as exc:
            state.set_pending(None)
            status.update(label=t("inspect.status_failed"), state="error")
            st.error(str(exc), icon=":material/warning:")
            return False
        except Exception:
            state.set_pending(None)
            status.update(label=t("inspect.status_failed"), state="error")
            raise  # page_guard shows it
        state.set_pending(None)
        state.set_current(job)
        status.update(
            label=t("inspect.status_done", verdict=verdict_bilingual(job.inspection["verdict"])),
            state="complete",
            expanded=False,
        )
    return True


main()
