"""Keep tracebacks out of the page: user errors become one message, bugs a generic one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.errors import InspectorError
from core.redact import redact
from inspector.ui.state import t

log = logging.getLogger(__name__)


@contextmanager
def page_guard() -> Iterator[None]:
    """Run a block of page code; show any error in the page instead of a traceback.

    An :class:`~core.errors.InspectorError` shows its own one-sentence message; any other
    exception is logged with its traceback (server side) and shown as a short generic message.
    Streamlit's own control flow (``st.rerun``, ``st.stop``, ``st.switch_page``) derives from
    ``BaseException`` and passes through untouched.
    """
    try:
        yield
    except InspectorError as exc:
        st.error(redact(exc), icon=":material/warning:")
    except Exception as exc:  # the last line of defence for the page
        log.exception("unhandled error in the app")
        st.error(t("app.unexpected_error", error=f"{type(exc).__name__}: {redact(exc)}"), icon=":material/report:")
