"""The Streamlit app's building blocks, shared by ``app.py`` and the pages in ``pages/``.

Plain modules (no Streamlit, testable alone): :mod:`~inspector.i18n` (every label in
Korean and English), :mod:`~inspector.drawing`, :mod:`~inspector.ui.charts`,
:mod:`~inspector.ui.catalog`, :mod:`~inspector.ui.cardview`, :mod:`~inspector.ui.batch` and
:mod:`~inspector.ui.runner` (one inspection: verdict now, VLM/VLG in the background).

Streamlit modules: :mod:`~inspector.ui.state` (per-session state), :mod:`~inspector.ui.resources`
(process-wide cached models and stores), :mod:`~inspector.ui.sidebar`,
:mod:`~inspector.ui.navigation`, :mod:`~inspector.ui.panels`, :mod:`~inspector.ui.live`,
:mod:`~inspector.ui.artifacts`, :mod:`~inspector.ui.actions` and :mod:`~inspector.ui.guard`.
"""
