"""History page: past inspections from the database, filterable, each reopenable in Summary."""

import base64

import pandas as pd
import streamlit as st

from core.errors import InspectorError
from inspector.i18n import VERDICTS, verdict_label
from inspector.ui import auth, navigation, resources, state
from inspector.ui.runner import InspectionJob
from inspector.ui.state import t


def main() -> None:
    """Filters, the table of stored inspections and the Reopen action."""
    st.title(t("history.title"))
    try:
        store = resources.history_store()
    except InspectorError as exc:
        st.error(t("history.unavailable", error=exc), icon=":material/warning:")
        return
    st.caption(t("history.database", url=store.safe_url))

    left, middle, right = st.columns([2, 2, 1])
    verdicts = left.multiselect(
        t("history.filter_verdict"),
        VERDICTS,
        key="history_verdicts",
        format_func=state.labels("verdict."),
    )
    text = middle.text_input(t("history.filter_text"), key="history_text")
    min_confidence = right.slider(t("history.filter_min_conf"), 0.0, 1.0, 0.0, 0.05, key="history_min_conf")
    user = auth.session_user()
    records = store.query(
        verdicts=verdicts or None,
        name_contains=text or None,
        min_confidence=min_confidence or None,
        user=None if user.is_engineer else user.username,  # operators see their own inspections
    )
    st.caption(t("history.count", n=len(records)))
    if not records:
        st.info(t("history.empty"))
        return

    table = pd.DataFrame(
        [
            {
                "thumbnail": _data_url(r.thumbnail),
                t("history.col_id"): r.id,
                t("history.col_user"): r.user or "",
                t("history.col_time"): r.created.strftime("%Y-%m-%d %H:%M:%S"),
                t("history.col_verdict"): verdict_label(r.verdict, state.lang())
                if r.verdict in VERDICTS
                else r.verdict,
                t("history.col_review"): ("⚑ " + t("review.needs_review")) if r.inspection.get("needs_review") else "",
                t("history.col_confidence"): r.confidence,
                t("history.col_sources"): " + ".join(n for n in (r.ct_name, r.rgb_name) if n),
                t("history.col_ct"): r.ct_label,
                t("history.col_rgb"): r.rgb_score,
            }
            for r in records
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "thumbnail": st.column_config.ImageColumn("", width="small"),
            t("history.col_confidence"): st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="percent"
            ),
        },
    )

    by_id = {r.id: r for r in records}
    verdict_name = state.labels("verdict.")
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    chosen = left.selectbox(
        t("history.select"),
        list(by_id),
        key="history_choice",
        format_func=lambda i: f"#{i} · {by_id[i].created:%Y-%m-%d %H:%M} · {verdict_name(by_id[i].verdict)}",
    )
    if right.button(t("history.reopen"), key="history_reopen", icon=":material/open_in_new:"):
        state.set_current(InspectionJob.from_record(store.get(chosen)))
        navigation.switch_to("summary")


def _data_url(png: bytes | None) -> str | None:
    return f"data:image/png;base64,{base64.b64encode(png).decode()}" if png else None


main()
