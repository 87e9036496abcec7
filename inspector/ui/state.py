"""Per-session state: the language, the advanced settings and the current inspection.

Everything here lives in ``st.session_state``, which Streamlit keeps per browser session, so
one user's results never show up in another user's session. Shared, read-only things (models,
the history store) live in :mod:`inspector.ui.resources` instead.

Sidebar settings are *saved*: each widget's value is copied to a plain session key when it
changes (:func:`save`) and given back to the widget before it is drawn (:func:`restore`).
Streamlit forgets widget values when a page switch interrupts a run, and it sends option
widgets back by their displayed label, which changes with the language; the saved copy
survives both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from inspector.i18n import DEFAULT_LANGUAGE, LANGUAGES, STRINGS
from inspector.i18n import t as _t
from inspector.settings import RUNTIME_NAMES, default_runtime

LANG_KEY = "lang"
CURRENT_KEY = "current_inspection"
PENDING_KEY = "pending_inspection"
BATCH_KEY = "batch_results"
SAVED_PREFIX = "saved."

# widget keys of the advanced settings (rendered in the sidebar on every page)
CT_MODEL_KEY = "settings_ct_model"
RGB_MODEL_KEY = "settings_rgb_model"
VLM_KEY = "settings_vlm"
VLG_KEY = "settings_vlg"
CT_THRESHOLD_KEY = "settings_ct_threshold"
RGB_THRESHOLD_KEY = "settings_rgb_threshold"
POLICY_KEY = "settings_policy"
TIMEOUT_KEY = "settings_timeout"
VLM_MODE_KEY = "settings_vlm_mode"
RUNTIME_KEY = "settings_runtime"
AUTO_RUN_KEY = "settings_auto_run"
VLG_SCORE_KEY = "summary_vlg_score"

# Option widgets of the pages whose labels are translated: a language switch re-pins them.
TRANSLATED_PAGE_WIDGETS: tuple[str, ...] = (
    "inspect_source",
    "inspect_battery_type",
    "inspect_axis",
    "batch_battery_type",
    "batch_axis",
    "history_verdicts",
    "history_choice",
    "adapt_source",
)

NONE_BACKEND = "none"
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class UISettings:
    """The advanced settings chosen in the sidebar.

    Attributes:
        ct_model: name of the CT/GAIN checkpoint card (stem), or ``None`` for the default.
        rgb_model: name of the RGB checkpoint card (stem), or ``None`` for the default.
        vlm: VLM backend name, or ``"none"``.
        vlg: VLG backend name, or ``"none"``.
        ct_threshold: defect probability at which CT counts as defective; ``None`` uses the
            card's threshold (else 0.5).
        rgb_threshold: AE score threshold; ``None`` uses the card's (Youden's J) threshold.
        policy: ``"or"`` or ``"and"``.
        timeout_s: time limit of each of the VLM and VLG.
        vlm_mode: ``"evidence"`` or ``"blind"``.
        runtime: where the models run, ``"torch"`` or ``"onnx"`` (default: ``INSPECTOR_RUNTIME``,
            else torch); part of the shared inspector's cache key.
        auto_run: start the inspection as soon as every expected image has arrived, without
            waiting for the Run button.
    """

    ct_model: str | None = None
    rgb_model: str | None = None
    vlm: str = NONE_BACKEND
    vlg: str = NONE_BACKEND
    ct_threshold: float | None = None
    rgb_threshold: float | None = None
    policy: str = "or"
    timeout_s: float = DEFAULT_TIMEOUT_S
    vlm_mode: str = "evidence"
    runtime: str = field(default_factory=default_runtime)
    auto_run: bool = True


def saved(key: str, default: Any = None) -> Any:
    """The saved value of the setting widget ``key`` (``default`` before it was ever drawn)."""
    return st.session_state.get(SAVED_PREFIX + key, default)


def restore(key: str, default: Any, options: Sequence[Any] | None = None) -> str:
    """Give the widget ``key`` its saved value before it is drawn; returns ``key``.

    Args:
        key: the widget key.
        default: value when nothing is saved yet (or the saved one is no longer an option).
        options: the widget's current options, if it has any.
    """
    value = st.session_state.get(SAVED_PREFIX + key, default)
    if options is not None and value not in options:
        value = default
    st.session_state[SAVED_PREFIX + key] = value
    st.session_state[key] = value
    return key


def save(key: str) -> None:
    """``on_change`` callback: keep the widget ``key``'s new value."""
    st.session_state[SAVED_PREFIX + key] = st.session_state[key]


def change_language() -> None:
    """``on_change`` of the language switch: save it and re-pin the translated page widgets.

    Runs while the page widgets can still be read with the previous run's labels; writing them
    back stores the option values themselves, which win over the stale labels from the browser.
    """
    save(LANG_KEY)
    for key in TRANSLATED_PAGE_WIDGETS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def lang() -> str:
    """The session's language (``ko`` or ``en``)."""
    value = saved(LANG_KEY, DEFAULT_LANGUAGE)
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, **fmt: Any) -> str:
    """Translate ``key`` into the session's language."""
    return _t(key, lang(), **fmt)


def labels(prefix: str, special: dict[str, str] | None = None) -> Callable[[Any], str]:
    """A ``format_func`` naming options ``prefix + option`` in the session's current language.

    The language is bound now, so the function gives the same labels wherever it is called.
    ``special`` maps options to translation keys of their own (e.g. ``{"none": "sidebar.none"}``);
    options without a translation are shown as they are.
    """
    language = lang()
    special = special or {}

    def label(option: Any) -> str:
        key = special.get(option, f"{prefix}{option}")
        return _t(key, language) if key in STRINGS else str(option)

    return label


def settings() -> UISettings:
    """The advanced settings as currently saved (defaults before the sidebar was drawn)."""
    ct_threshold = saved(CT_THRESHOLD_KEY) or None  # 0 means "the model card's threshold"
    rgb_threshold = saved(RGB_THRESHOLD_KEY) or None
    return UISettings(
        ct_model=saved(CT_MODEL_KEY) or None,
        rgb_model=saved(RGB_MODEL_KEY) or None,
        vlm=saved(VLM_KEY) or NONE_BACKEND,
        vlg=saved(VLG_KEY) or NONE_BACKEND,
        ct_threshold=float(ct_threshold) if ct_threshold else None,
        rgb_threshold=float(rgb_threshold) if rgb_threshold else None,
        policy=saved(POLICY_KEY, "or"),
        timeout_s=float(saved(TIMEOUT_KEY, DEFAULT_TIMEOUT_S)),
        vlm_mode=saved(VLM_MODE_KEY, "evidence"),
        runtime=runtime if (runtime := saved(RUNTIME_KEY)) in RUNTIME_NAMES else default_runtime(),
        auto_run=bool(saved(AUTO_RUN_KEY, True)),
    )


def current() -> Any | None:
    """This session's current inspection (an :class:`inspector.ui.runner.InspectionJob`)."""
    return st.session_state.get(CURRENT_KEY)


def set_current(job: Any) -> None:
    """Make ``job`` this session's current inspection (shown by Summary and Detail)."""
    st.session_state[CURRENT_KEY] = job


def pending() -> Any | None:
    """The inspection requested by Run and not started yet (an ``actions.PendingInspection``)."""
    return st.session_state.get(PENDING_KEY)


def set_pending(request: Any | None) -> None:
    """Queue ``request`` for the Summary page to run (``None`` clears it)."""
    if request is None:
        st.session_state.pop(PENDING_KEY, None)
    else:
        st.session_state[PENDING_KEY] = request
