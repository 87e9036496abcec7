"""Compare page: the inspector, VLMs, VLGs and their combinations on a labelled dataset.

Runs :func:`inspector.evaluation.compare.run_compare` (the same bench as ``python -m inspector
compare``) with a progress bar, then shows the systems table, one confusion matrix per system
and the agreement (Cohen's kappa) heat map.
"""

import os

import pandas as pd
import streamlit as st

from core.errors import InspectorError
from inspector.evaluation.compare import TABLE_COLUMNS, kappa_matrix, run_compare
from inspector.ui import actions, charts, state
from inspector.ui.catalog import assets_dir
from inspector.ui.resources import backend_options
from inspector.ui.state import t

RESULT_KEY = "compare_result"
CACHE_ENV = "INSPECTOR_CACHE_DIR"


class _LockedInspector:
    """The shared inspector with its forward pass serialised and this session's thresholds."""

    def __init__(self, shared, thresholds) -> None:
        self._shared = shared
        self._thresholds = thresholds
        self.predictors = shared.inspector.predictors
        self.missing = shared.inspector.missing

    def analyse(self, *args, **kwargs):
        kwargs.setdefault("thresholds", self._thresholds)
        with self._shared.lock:
            return self._shared.inspector.analyse(*args, **kwargs)


def main() -> None:
    """Pick a dataset and systems, run the bench, show the table and the figures."""
    st.title(t("compare.title"))
    st.caption(t("compare.help"))
    data = st.text_input(t("compare.data"), value=str(assets_dir()), key="compare_data")
    left, right = st.columns(2)
    vlms = [o.name for o in backend_options("vlm") if o.ok]
    vlgs = [o.name for o in backend_options("vlg") if o.ok]
    chosen_vlms = left.multiselect(t("compare.vlms"), vlms, default=vlms[:1], key="compare_vlms")
    chosen_vlgs = right.multiselect(t("compare.vlgs"), vlgs, default=vlgs[:1], key="compare_vlgs")
    split = left.selectbox(t("compare.split"), ("test", "all", "val", "train"), key="compare_split")
    mode = right.radio(
        t("sidebar.vlm_mode"), ("blind", "evidence"), key="compare_mode", horizontal=True,
        format_func=state.labels("vlm_mode."),
    )
    limit = left.number_input(t("compare.limit"), min_value=0, value=40, step=10, key="compare_limit")
    paid_only = right.checkbox(t("compare.paid_only"), key="compare_paid_only")
    if st.button(t("compare.run"), type="primary", key="compare_run", icon=":material/play_arrow:"):
        progress = st.progress(0.0, text=t("compare.progress", done=0, total="?"))
        try:
            shared = actions.load_shared(state.settings())
            result = run_compare(
                data.strip(),
                split=split,
                vlms=chosen_vlms,
                vlgs=chosen_vlgs,
                vlm_mode=mode,
                limit=int(limit) or None,
                inspector=_LockedInspector(shared, actions.thresholds(state.settings())),
                lang=state.lang(),
                cache_dir=os.path.join(os.environ.get(CACHE_ENV) or ".inspector_cache", "vlm"),
                paid_only_if_defect=paid_only,
                on_progress=lambda done, total, _id: progress.progress(
                    done / total, text=t("compare.progress", done=done, total=total)
                ),
            )
        except InspectorError as exc:
            st.error(str(exc), icon=":material/warning:")
            return
        st.session_state[RESULT_KEY] = result
    result = st.session_state.get(RESULT_KEY)
    if result:
        show(result)


def show(result: dict) -> None:
    """The systems table, a confusion matrix per system and the agreement heat map."""
    st.subheader(t("compare.table", n=result["n_pairs"], mode=t(f"vlm_mode.{result['vlm_mode']}")))
    table = pd.DataFrame([{c: s.get(c) for c in TABLE_COLUMNS} for s in result["systems"]])
    st.dataframe(table, hide_index=True, key="compare_table")
    for system in result["systems"]:
        for message in system.get("error_messages") or []:
            st.text(f"{system['name']}: {message}")  # backend messages are shown as plain text
    st.subheader(t("compare.confusion"))
    columns = st.columns(2)
    for i, system in enumerate(result["systems"]):
        cm = system["confusion_matrix"]
        with columns[i % 2]:
            st.plotly_chart(
                charts.confusion_heatmap(cm["rows_true_cols_predicted"], cm["labels"], system["name"]),
                key=f"compare_cm_{i}",
            )
    st.subheader(t("compare.agreement"))
    names, matrix = kappa_matrix(result)
    st.plotly_chart(charts.kappa_heatmap(matrix, names, t("compare.kappa")), key="compare_kappa")


main()
