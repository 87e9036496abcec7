"""The sidebar shown on every page: language and the advanced settings.

Every widget here is a saved setting (:func:`inspector.ui.state.restore` before drawing,
:func:`inspector.ui.state.save` on change), so it keeps its value across page switches.
"""

from __future__ import annotations

import streamlit as st

from inspector.i18n import DEFAULT_LANGUAGE, LANGUAGES
from inspector.settings import RUNTIME_NAMES, default_runtime
from inspector.ui import state
from inspector.ui.catalog import checkpoints_dir, default_card, list_cards
from inspector.ui.resources import BackendOption, backend_options
from inspector.ui.state import restore, save, t

LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}


def render_language() -> None:
    """The language switch. Its label is bilingual so it reads right before and after a switch."""
    st.sidebar.radio(
        "언어 / Language",
        LANGUAGES,
        key=restore(state.LANG_KEY, DEFAULT_LANGUAGE, LANGUAGES),
        format_func=LANGUAGE_NAMES.get,
        horizontal=True,
        on_change=state.change_language,
    )


def render_advanced() -> None:
    """CT and RGB models, VLM and VLG backends, thresholds, decision policy and the VLM/VLG time limit."""
    with st.sidebar.expander(t("sidebar.advanced"), expanded=False):
        _ct_model()
        _rgb_model()
        _backend("vlm", state.VLM_KEY, t("sidebar.vlm"))
        modes = ("evidence", "blind")
        st.radio(
            t("sidebar.vlm_mode"),
            modes,
            key=restore(state.VLM_MODE_KEY, "evidence", modes),
            on_change=save,
            args=(state.VLM_MODE_KEY,),
            format_func=state.labels("vlm_mode."),
            horizontal=True,
            help=t("sidebar.vlm_mode_help"),
        )
        _backend("vlg", state.VLG_KEY, t("sidebar.vlg"))
        st.slider(
            t("sidebar.ct_threshold"),
            min_value=0.0,
            max_value=0.95,
            step=0.05,
            key=restore(state.CT_THRESHOLD_KEY, 0.0),
            on_change=save,
            args=(state.CT_THRESHOLD_KEY,),
            help=t("sidebar.ct_threshold_help"),
        )
        st.number_input(
            t("sidebar.rgb_threshold"),
            min_value=0.0,
            step=0.0001,
            format="%.5f",
            key=restore(state.RGB_THRESHOLD_KEY, 0.0),
            on_change=save,
            args=(state.RGB_THRESHOLD_KEY,),
            help=t("sidebar.rgb_threshold_help"),
        )
        policies = ("or", "and")
        st.radio(
            t("sidebar.policy"),
            policies,
            key=restore(state.POLICY_KEY, "or", policies),
            on_change=save,
            args=(state.POLICY_KEY,),
            format_func=state.labels("policy."),
            horizontal=True,
            help=t("sidebar.policy_help"),
        )
        st.number_input(
            t("sidebar.timeout"),
            min_value=1.0,
            max_value=600.0,
            step=5.0,
            key=restore(state.TIMEOUT_KEY, state.DEFAULT_TIMEOUT_S),
            on_change=save,
            args=(state.TIMEOUT_KEY,),
        )
        st.radio(
            t("sidebar.runtime"),
            RUNTIME_NAMES,
            key=restore(state.RUNTIME_KEY, default_runtime(), RUNTIME_NAMES),
            on_change=save,
            args=(state.RUNTIME_KEY,),
            format_func=state.labels("runtime."),
            horizontal=True,
            help=t("sidebar.runtime_help"),
        )
        st.toggle(
            t("sidebar.auto_run"),
            key=restore(state.AUTO_RUN_KEY, True),
            on_change=save,
            args=(state.AUTO_RUN_KEY,),
            help=t("sidebar.auto_run_help"),
        )


def apply_defaults() -> None:
    """Save the default advanced settings without drawing them (operators do not choose them).

    Whatever an earlier user of the session chose is replaced, so an operator always inspects
    with the default models, backends, thresholds and policy.
    """
    cards = list_cards(tasks=("ct", "gain"))
    rgb_default = default_card(list_cards(tasks=("rgb",)), "rgb")
    defaults: dict[str, object] = {
        state.CT_MODEL_KEY: (default_card(cards, "ct") or cards[0]).name if cards else None,
        state.RGB_MODEL_KEY: rgb_default.name if rgb_default else None,
        state.VLM_MODE_KEY: "evidence",
        state.CT_THRESHOLD_KEY: 0.0,
        state.RGB_THRESHOLD_KEY: 0.0,
        state.POLICY_KEY: "or",
        state.TIMEOUT_KEY: state.DEFAULT_TIMEOUT_S,
        state.RUNTIME_KEY: default_runtime(),
        state.AUTO_RUN_KEY: True,
    }
    for kind, key in (("vlm", state.VLM_KEY), ("vlg", state.VLG_KEY)):
        usable = [o.name for o in backend_options(kind) if o.ok]
        defaults[key] = usable[0] if usable else state.NONE_BACKEND
    for key, value in defaults.items():
        st.session_state[state.SAVED_PREFIX + key] = value


def _ct_model() -> None:
    """The CT model: every CT or GAIN card of the checkpoints folder, the default one first."""
    _model_select(("ct", "gain"), "ct", state.CT_MODEL_KEY)


def _rgb_model() -> None:
    """The RGB model: every RGB card of the checkpoints folder, the default one first."""
    _model_select(("rgb",), "rgb", state.RGB_MODEL_KEY)


def _model_select(tasks: tuple[str, ...], side: str, key: str) -> None:
    """A select box of the model cards of ``tasks`` saved under ``key`` (``side``: ct or rgb)."""
    cards = list_cards(tasks=tasks)
    if not cards:
        st.caption(t(f"sidebar.no_{side}_models", path=checkpoints_dir()))
        return
    names = [c.name for c in cards]
    by_name = {c.name: c for c in cards}
    default = (default_card(cards, side) or cards[0]).name
    st.selectbox(
        t(f"sidebar.{side}_model"),
        names,
        key=restore(key, default, names),
        on_change=save,
        args=(key,),
        format_func=lambda n: f"{n} ({by_name[n].card.get('architecture', by_name[n].task)})",
    )


def _backend(kind: str, key: str, label: str) -> None:
    """A backend picker: available ones selectable, unavailable ones listed disabled with the reason."""
    options: list[BackendOption] = backend_options(kind)
    usable = [o.name for o in options if o.ok] + [state.NONE_BACKEND]
    st.selectbox(
        label,
        usable,
        key=restore(key, usable[0], usable),
        on_change=save,
        args=(key,),
        format_func=state.labels("", {state.NONE_BACKEND: "sidebar.none_backend"}),
    )
    unavailable = [o for o in options if not o.ok]
    if unavailable:
        st.radio(
            f"{label}: {t('sidebar.unavailable')}",
            [o.name for o in unavailable],
            index=None,
            disabled=True,
            key=f"{key}_unavailable",
            captions=[o.reason for o in unavailable],
        )
