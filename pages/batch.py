"""Batch page: many images or a ZIP in, a table of verdicts with a progress bar, CSV out."""

import logging

import pandas as pd
import streamlit as st

from core.errors import InspectorError
from inspector.i18n import verdict_label
from inspector.ui import actions, auth, batch, resources, state
from inspector.ui.state import t


def main() -> None:
    """Upload, run with progress, show and download the verdict table."""
    st.title(t("batch.title"))
    st.caption(t("batch.help"))
    files = st.file_uploader(
        t("batch.upload"),
        type=[*actions.IMAGE_TYPES, "zip"],
        accept_multiple_files=True,
        key="batch_files",
    )
    left, right = st.columns(2)
    battery_type = left.radio(
        t("inspect.battery_type"),
        ("cell", "module"),
        key="batch_battery_type",
        horizontal=True,
        format_func=state.labels("battery."),
    )
    axis = right.radio(
        t("inspect.axis"), ("x", "y"), key="batch_axis", horizontal=True, format_func=state.labels("axis.")
    )

    if st.button(
        t("batch.run"), type="primary", key="batch_run", disabled=not files, icon=":material/play_arrow:"
    ):
        try:
            batch.check_uploads((f.name, f.size) for f in files)  # before reading any of them
            with batch.batch_slot():
                _run(files, battery_type, axis)
        except InspectorError as exc:
            st.error(str(exc), icon=":material/warning:")

    rows = st.session_state.get(state.BATCH_KEY)
    if rows:
        _table(rows)


def _run(files, battery_type: str, axis: str) -> None:
    """Unpack, group and inspect the uploaded files; the rows go to the session.

    Raises:
        InputError: an archive is refused (see :func:`inspector.ui.batch.expand`).
    """
    items = batch.group(batch.expand((f.name, f.getvalue()) for f in files))
    if not items:
        st.warning(t("batch.no_files"), icon=":material/warning:")
        return
    if len(items) > batch.MAX_ITEMS:
        st.warning(t("batch.too_many", n=batch.MAX_ITEMS), icon=":material/warning:")
        items = items[: batch.MAX_ITEMS]
    shared = actions.load_shared(state.settings())
    chosen = actions.thresholds(state.settings())
    progress = st.progress(0.0, text=t("batch.progress", done=0, total=len(items)))

    def analyse(ct, rgb, battery_type, axis):
        with shared.lock:
            return shared.inspector.analyse(ct, rgb, battery_type, axis, thresholds=chosen)

    rows = batch.run_batch(
        items,
        analyse,
        battery_type,
        axis,
        on_progress=lambda done, total: progress.progress(
            done / total, text=t("batch.progress", done=done, total=total)
        ),
    )
    st.session_state[state.BATCH_KEY] = rows
    try:
        detail = actions.audit_detail(shared.inspector, {"items": len(items)}, chosen, state.settings())
        detail.update(battery_type=battery_type, axis=axis, failed=sum(1 for r in rows if r["error"]))
        resources.history_store().audit(auth.session_user().username, "batch", detail)
    except Exception:  # the batch result matters more than its audit row; the log says why
        logging.getLogger(__name__).exception("could not write the audit row of a batch")


def _table(rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    shown = pd.DataFrame(
        {
            t("batch.col_item"): frame["item"],
            t("batch.col_ct"): frame["ct_file"],
            t("batch.col_rgb"): frame["rgb_file"],
            t("batch.col_verdict"): [verdict_label(v, state.lang()) if v else "-" for v in frame["verdict"]],
            t("batch.col_confidence"): frame["confidence"],
            t("batch.col_error"): frame["error"],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            t("batch.col_confidence"): st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="percent"
            )
        },
    )
    st.download_button(
        t("batch.download"),
        frame.to_csv(index=False).encode("utf-8"),
        file_name="batch_verdicts.csv",
        mime="text/csv",
        on_click="ignore",
        key="batch_csv",
        icon=":material/download:",
    )


main()
