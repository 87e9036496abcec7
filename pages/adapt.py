"""Adapt to my line: fit an RGB detector on the line's own normal photos, compare it, use it.

Engineers only. Photos come from uploads (bounded and checked before reading, like the Batch
page) or from a server folder under ``INSPECTOR_ADAPT_ROOT``; the work itself is
:mod:`inspector.ui.adapt`.
"""

import logging
from pathlib import Path

import streamlit as st

from core.errors import InspectorError
from core.redact import redact
from inspector.report import format_percent
from inspector.ui import actions, adapt, auth, charts, resources, state
from inspector.ui.state import t

log = logging.getLogger(__name__)

RESULT_KEY = "adapt_result"
WORKDIR_KEY = "adapt_workdir"
INSTALLED_KEY = "adapt_installed"
UPLOAD_TYPES = [*actions.IMAGE_TYPES, "zip"]


def main() -> None:
    """Choose photos and a detector, fit, show the result, install it."""
    st.title(t("adapt.title"))
    if not auth.session_user().is_engineer:
        st.warning(t("adapt.engineers_only"), icon=":material/lock:")
        return
    st.caption(t("adapt.help"))
    source = st.radio(
        t("adapt.source"),
        ("upload", "folder"),
        key="adapt_source",
        horizontal=True,
        format_func=state.labels("adapt.source_"),
    )
    if source == "upload":
        normals = st.file_uploader(
            t("adapt.normals_upload"),
            type=UPLOAD_TYPES,
            accept_multiple_files=True,
            key="adapt_normals_files",
        )
        defects = st.file_uploader(
            t("adapt.defects_upload"),
            type=UPLOAD_TYPES,
            accept_multiple_files=True,
            key="adapt_defects_files",
        )
        ready = bool(normals)
    else:
        st.caption(t("adapt.folder_root", path=adapt.adapt_root()))
        normals = st.text_input(t("adapt.normals_folder"), key="adapt_normals_dir")
        defects = st.text_input(t("adapt.defects_folder"), key="adapt_defects_dir")
        ready = bool(normals.strip())

    detectors = adapt.feature_detectors()
    if not detectors:
        st.warning(t("adapt.no_detectors"), icon=":material/warning:")
        return
    left, right = st.columns(2)
    detector = left.selectbox(
        t("adapt.detector"),
        detectors,
        index=detectors.index(adapt.default_detector(detectors)),
        key="adapt_detector",
    )
    false_alarm = right.number_input(
        t("adapt.false_alarm"),
        min_value=adapt.FALSE_ALARM_MIN,
        max_value=adapt.FALSE_ALARM_MAX,
        value=adapt.FALSE_ALARM_DEFAULT,
        step=0.001,
        format="%.3f",
        key="adapt_false_alarm",
        help=t("adapt.false_alarm_help"),
    )
    if st.button(t("adapt.fit"), type="primary", key="adapt_fit", disabled=not ready, icon=":material/tune:"):
        try:
            with adapt.fit_slot():
                _fit(source, normals, defects, detector, float(false_alarm))
        except InspectorError as exc:
            st.error(redact(exc), icon=":material/warning:")

    outcome = st.session_state.get(RESULT_KEY)
    if outcome is not None:
        _show(outcome)


def _fit(source: str, normals, defects, detector: str, false_alarm: float) -> None:
    """Stage the photos, fit with a progress bar, score the normals with the current model.

    Raises:
        InspectorError: refused uploads or folder, too few photos, a bad option.
    """
    adapt.remove_workdir(st.session_state.pop(WORKDIR_KEY, None))
    st.session_state.pop(RESULT_KEY, None)
    st.session_state.pop(INSTALLED_KEY, None)
    work = adapt.new_workdir()
    st.session_state[WORKDIR_KEY] = str(work)
    bar = st.progress(0.0, text=t("adapt.progress_read"))
    try:
        names: dict[str, str] = {}
        if source == "upload":
            names = adapt.stage_uploads(
                ((f.name, f.size, f.getvalue) for f in normals), work / "normals", "n"
            )
            normals_dir, defects_dir = work / "normals", None
            if defects:
                names |= adapt.stage_uploads(
                    ((f.name, f.size, f.getvalue) for f in defects), work / "defects", "d"
                )
                defects_dir = work / "defects"
        else:
            normals_dir = adapt.resolve_folder(normals)
            defects_dir = adapt.resolve_folder(defects) if defects.strip() else None

        def progress(fraction: float, message: str) -> None:
            bar.progress(
                min(max(float(fraction), 0.0), 1.0) * 0.9, text=f"{t('adapt.progress_fit')} · {message}"
            )

        outcome = adapt.fit(
            normals_dir,
            work / "model",
            detector=detector,
            false_alarm=false_alarm,
            defects=defects_dir,
            names=names,
            progress=progress,
        )
        outcome.skipped = adapt.unsupported(names) + outcome.skipped
        bar.progress(0.92, text=t("adapt.progress_before"))
        _before(outcome, normals_dir)
        bar.progress(1.0, text=t("adapt.progress_done"))
    except BaseException:
        adapt.remove_workdir(st.session_state.pop(WORKDIR_KEY, None))
        raise
    st.session_state[RESULT_KEY] = outcome
    _audit("adapt_fit", {"detector": detector, "false_alarm": false_alarm, **_summary(outcome)})


def _before(outcome: adapt.FitOutcome, normals_dir: Path) -> None:
    """The current RGB model's false-alarm rate on the same normals (``None`` if it cannot load)."""
    settings = state.settings()
    try:
        shared = actions.load_shared(settings)
    except InspectorError as exc:
        outcome.warnings.append(t("adapt.before_unavailable", reason=redact(exc)))
        return
    predictor = shared.inspector.predictors.get("rgb")
    if predictor is None:
        return
    source = getattr(predictor, "source", None)
    outcome.before_model = Path(source).stem if source else None

    def flags(image) -> bool:
        with shared.lock:  # per photo: other sessions' inspections interleave
            return bool(predictor.predict(image, threshold=settings.rgb_threshold).is_defect)

    outcome.before_false_alarm = adapt.false_alarm_rate(flags, adapt.normal_photos(normals_dir))


def _show(outcome: adapt.FitOutcome) -> None:
    metrics = outcome.metrics
    if outcome.skipped:
        lines = "\n".join(
            f"- `{actions.safe_name(name)}`: {redact(reason)}" for name, reason in outcome.skipped
        )
        st.warning(f"{t('adapt.skipped', n=len(outcome.skipped))}\n\n{lines}", icon=":material/broken_image:")
    for warning in outcome.warnings:
        st.warning(redact(warning), icon=":material/warning:")
    st.subheader(t("adapt.result", detector=outcome.card.get("architecture", "-")))
    after = metrics.get("heldout_false_alarm")
    recall = metrics.get("defect_recall")
    cols = st.columns(4)
    cols[0].metric(
        t("adapt.before"),
        _percent(outcome.before_false_alarm),
        help=t("adapt.before_help", model=outcome.before_model or "-"),
    )
    delta = None
    if after is not None and outcome.before_false_alarm is not None:
        delta = f"{(after - outcome.before_false_alarm) * 100:+.1f} pt"
    cols[1].metric(
        t("adapt.after"), _percent(after), delta=delta, delta_color="inverse", help=t("adapt.after_help")
    )
    cols[2].metric(t("adapt.recall"), _percent(recall), help=t("adapt.recall_help"))
    cols[3].metric(t("adapt.photos"), f"{metrics.get('n_normals', 0)} / {metrics.get('n_defects', 0)}")
    rule = (metrics.get("threshold_rule") or {}).get("rule", "")
    threshold = outcome.card.get("threshold")
    st.caption(
        t(
            "adapt.rule_youden" if rule == "youden_j" else "adapt.rule_quantile",
            threshold=f"{threshold:.4g}" if isinstance(threshold, (int, float)) else "-",
        )
    )
    histogram = metrics.get("score_histogram") or {}
    if histogram.get("edges"):
        st.plotly_chart(
            charts.score_histogram(
                histogram["edges"],
                {t("adapt.normals"): histogram.get("normal"), t("adapt.defects"): histogram.get("defect")},
                threshold,
                t("adapt.histogram"),
                t("adapt.score"),
                t("adapt.count"),
                t("adapt.threshold"),
            ),
            key="adapt_histogram",
        )
    installed = st.session_state.get(INSTALLED_KEY)
    if installed:
        st.success(t("adapt.installed", name=installed), icon=":material/check_circle:")
    elif st.button(t("adapt.use"), type="primary", key="adapt_use", icon=":material/rocket_launch:"):
        name = adapt.install(outcome.card)
        st.session_state[state.SAVED_PREFIX + state.RGB_MODEL_KEY] = name  # this session's RGB model
        st.session_state[INSTALLED_KEY] = name
        _audit("adapt_install", {"model": name, **_summary(outcome)})
        st.rerun()


def _percent(value: float | None) -> str:
    return "-" if value is None else format_percent(value)


def _summary(outcome: adapt.FitOutcome) -> dict:
    metrics = outcome.metrics
    return {
        "n_normals": metrics.get("n_normals"),
        "n_defects": metrics.get("n_defects"),
        "heldout_false_alarm": metrics.get("heldout_false_alarm"),
        "defect_recall": metrics.get("defect_recall"),
        "before_false_alarm": outcome.before_false_alarm,
        "skipped": len(outcome.skipped),
    }


def _audit(action: str, detail: dict) -> None:
    try:
        resources.history_store().audit(auth.session_user().username, action, detail)
    except Exception:  # the fit matters more than its audit row; the log says why
        log.exception("could not write the audit row of %s", action)


main()
