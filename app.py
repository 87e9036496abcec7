"""The battery inspection app: ``streamlit run app.py`` (or ``make run``).

This file only wires the app together: page setup, the login (only with a login config, see
:mod:`inspector.ui.auth`), the navigation between the pages in ``pages/`` and the sidebar
(language; advanced settings for engineers and in local single-user mode). Every page body runs inside
:func:`inspector.ui.guard.page_guard`, so no traceback ever reaches the browser.
"""

import logging
from pathlib import Path

import streamlit as st

from core.redact import install_log_redaction
from inspector.ui import actions, auth, navigation, sidebar, state
from inspector.ui.catalog import list_cards
from inspector.ui.guard import page_guard

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
install_log_redaction()

st.set_page_config(page_title="Battery Inspection AI", page_icon="🔋", layout="wide")

sidebar.render_language()
user = None
with page_guard():
    user = auth.current_user()
if user is None:
    st.stop()
current_page = st.navigation(navigation.build(Path(__file__).resolve().parent / "pages"))
with page_guard():
    if user.is_engineer:
        sidebar.render_advanced()
    else:
        sidebar.apply_defaults()
if list_cards():
    # Load and warm the models of the chosen settings before any page: once per process and
    # choice (cached), so the first verdict pays only for its own inference.
    with page_guard(), st.spinner(state.t("inspect.status_models")):
        actions.warm_up(state.settings())
with page_guard():
    current_page.run()
