"""Detail page: the full VLM finding, charts of probabilities, scores and timings, the inference log."""

import pandas as pd
import streamlit as st

from inspector.ui import charts, navigation, panels, state
from inspector.ui.live import live_fragment
from inspector.ui.state import t

POLL_SECONDS = 1.0


def main() -> None:
    """Render the details of the current session's inspection."""
    st.title(t("detail.title"))
    job = state.current()
    if job is None:
        st.info(t("summary.empty"))
        navigation.link("inspect")
        return

    live_fragment(job, lambda: _body(job), POLL_SECONDS, "detail")


def _body(job) -> None:
    inspection = job.snapshot()
    st.header(t("detail.finding"))
    panels.vlm_panel(job, inspection, title=False)

    st.header(t("detail.charts"))
    left, right = st.columns(2)
    ct, rgb = inspection.get("ct"), inspection.get("rgb")
    with left:
        if ct and ct.get("probabilities"):
            st.plotly_chart(
                charts.probability_bars(ct["probabilities"], t("detail.prob_chart"), ct.get("label")),
                key="detail_probs",
            )
        else:
            st.caption(t("summary.no_ct"))
    with right:
        if rgb and isinstance(rgb.get("score"), (int, float)):
            st.plotly_chart(
                charts.score_gauge(
                    float(rgb["score"]), float(rgb.get("threshold") or 0.0), t("detail.score_chart")
                ),
                key="detail_score",
            )
        else:
            st.caption(t("summary.no_rgb"))
        timings = {
            k: float(v)
            for k, v in (inspection.get("timings_ms") or {}).items()
            if isinstance(v, (int, float))
        }
        if timings:
            st.plotly_chart(charts.timing_bars(timings, t("detail.timings_chart")), key="detail_timings")

    boxes = [
        {"source": source, **{k: b.get(k) for k in ("label", "score", "modality")}, "box": str(b.get("box"))}
        for source in ("ct", "rgb", "vlg")
        for b in ((inspection.get(source) or {}).get("boxes") or [])
    ]
    if boxes:
        st.header(t("detail.boxes"))
        st.dataframe(pd.DataFrame(boxes), hide_index=True, width="stretch")

    st.header(t("detail.log"))
    rows = [
        {
            t("detail.elapsed"): round(e.seconds, 3),
            t("detail.model"): e.stage,
            t("detail.message"): e.message,
            t("detail.time_ms"): None if e.ms is None else round(e.ms, 1),
        }
        for e in list(job.log)
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    with st.expander(t("detail.raw_json")):
        st.json(inspection, expanded=False)


main()
