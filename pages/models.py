"""Models page: the cards of the shipped models, their evaluation, and the GAIN-MTL ablation.

Nothing is hard-coded: the page shows whatever cards are in the checkpoints folder and whatever
pictures, Markdown and JSON files sit next to them or in ``docs/ablation/``.
"""

from pathlib import Path

import pandas as pd
import streamlit as st

from inspector.calibration import load_calibration
from inspector.ui import artifacts, cardview, charts
from inspector.ui.catalog import ModelCard, checkpoints_dir, docs_dir, list_artifacts, list_cards
from inspector.ui.state import t


def main() -> None:
    st.title(t("models.title"))
    folder = checkpoints_dir()
    cards = list_cards(folder)
    if not cards:
        st.info(t("models.none", path=folder))
    else:
        tabs = st.tabs([f"{':material/star: ' if c.is_default else ''}{c.name}" for c in cards])
        for tab, card in zip(tabs, cards):
            with tab:
                _card(card, folder)
    st.divider()
    _calibration(folder)
    st.divider()
    _ablation(docs_dir() / "ablation")
    _reports(docs_dir(), cards)


def _card(card: ModelCard, folder: Path) -> None:
    info = card.card
    cols = st.columns(4)
    cols[0].metric(t("models.task"), card.task)
    kwargs = info.get("model_kwargs") or {}
    variant = kwargs.get("variant") or kwargs.get("backbone")
    architecture = str(info.get("architecture", "-")) + (f" ({variant})" if variant else "")
    cols[1].metric(t("models.architecture"), architecture)
    cols[2].metric(t("models.input_size"), str(info.get("input_size", "-")))
    threshold = info.get("threshold")
    cols[3].metric(t("models.threshold"), f"{threshold:.4g}" if isinstance(threshold, (int, float)) else "-")
    if card.is_default:
        st.caption(
            f":material/star: {t('models.default')} · {t('models.created')}: {info.get('created', '-')}"
        )
    else:
        st.caption(f"{t('models.created')}: {info.get('created', '-')}")

    metrics = info.get("metrics") or {}
    scalars = cardview.scalar_metrics(metrics)
    left, right = st.columns(2)
    with left:
        st.subheader(t("models.metrics"))
        if scalars:
            table = pd.DataFrame(scalars, columns=[t("models.metric"), t("models.value")])
            st.dataframe(table, hide_index=True, width="stretch")
        per_class = cardview.per_class_rows(metrics)
        if per_class:
            st.subheader(t("models.per_class"))
            st.dataframe(pd.DataFrame(per_class), hide_index=True, width="stretch")
    with right:
        matrix = cardview.confusion_matrix(metrics)
        if matrix is not None:
            labels = info.get("class_names") or []
            labels = labels if len(labels) == len(matrix) else [str(i) for i in range(len(matrix))]
            st.plotly_chart(
                charts.confusion_heatmap(
                    matrix, labels, t("models.confusion"), t("models.predicted"), t("models.actual")
                ),
                key=f"cm_{card.name}",
            )
        curves = cardview.roc_curves(metrics)
        if curves:
            st.plotly_chart(
                charts.roc_curve(curves, t("models.roc"), t("models.fpr"), t("models.tpr")),
                key=f"roc_{card.name}",
            )
    found = artifacts.card_artifacts(card, [folder, docs_dir()])
    if found:
        st.subheader(t("models.artifacts"))
        for path in found:
            artifacts.show(path)
    with st.expander(t("models.card_json")):
        st.json(info, expanded=False)


def _calibration(folder: Path) -> None:
    """The verdict-confidence calibration of these checkpoints: reliability diagram and ECE."""
    st.header(t("models.calibration"))
    calibration = load_calibration(folder)
    if calibration is None:
        st.info(t("models.calibration_missing"))
        return
    fit, ev = calibration.report.get("fit", {}), calibration.report.get("eval", {})
    st.caption(
        t(
            "models.calibration_caption",
            fit_data=Path(str(fit.get("data", "?"))).name,
            fit_n=fit.get("n", 0),
            eval_data=Path(str(ev.get("data", "?"))).name,
            eval_split=ev.get("split", ""),
            eval_n=ev.get("n", 0),
            ece_raw=float(ev.get("ece_raw", float("nan"))),
            ece_cal=float(ev.get("ece_calibrated", float("nan"))),
            models=", ".join(calibration.checkpoints.values()),
        )
    )
    series = {
        t("models.raw"): ev.get("reliability_raw", []),
        t("models.calibrated"): ev.get("reliability_calibrated", []),
    }
    st.plotly_chart(
        charts.reliability_diagram(
            series, t("models.calibration"), t("models.confidence"), t("models.fraction_correct")
        ),
        width="stretch",
        key="models_reliability",
    )


def _ablation(folder: Path) -> None:
    st.header(t("models.ablation"))
    found = list_artifacts(folder)
    if not found:
        st.info(t("models.ablation_missing", path=folder))
    for path in found:
        artifacts.show(path)


def _reports(docs: Path, cards: list[ModelCard]) -> None:
    shown = tuple(docs / c.name for c in cards) + (docs / "ablation",)
    reports = artifacts.report_files(docs, skip=shown)
    if reports:
        st.header(t("models.reports"))
    for path in reports:
        title = path.parent.name if path.name == "report.md" else path.stem
        with st.expander(title.replace("_", " ")):
            artifacts.show(path)


main()
