"""A canary secret must appear in no error, log line or message (core.redact)."""

from __future__ import annotations

import logging

import pytest

from core.errors import ConfigError
from core.redact import MASK, RedactingFilter, redact

CANARY = "CanarySecret-7f3a9b"


def test_url_password_env_values_and_key_shapes_are_masked(monkeypatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", CANARY)
    monkeypatch.setenv("INSPECTOR_API_KEYS", "first-key-123,second-key-456")
    text = (
        f"postgresql://inspector:{CANARY}x@db:5432/h failed; key {CANARY}; other second-key-456; "
        "google AIzaSyA1234567890abcdefghijklmnop"
    )
    out = redact(text)
    assert CANARY not in out and "second-key-456" not in out and "AIzaSy" not in out
    assert "postgresql://inspector:***@db:5432/h" in out and out.count(MASK) >= 4
    assert redact("nothing secret here") == "nothing secret here"


def test_history_error_never_shows_the_database_password(monkeypatch) -> None:
    from inspector.history import HistoryStore

    with pytest.raises(ConfigError) as info:
        HistoryStore(f"postgresql+nosuchdriver://user:{CANARY}@localhost/db")
    assert CANARY not in str(info.value)


def test_log_filter_redacts_messages_args_and_tracebacks(monkeypatch, caplog) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", CANARY)
    logger = logging.getLogger("test_redact_canary")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test_redact_canary"):
        logger.info("calling with key %s", CANARY)
        try:
            raise RuntimeError(f"server said {CANARY}")
        except RuntimeError:
            logger.exception("backend failed")
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert CANARY not in text and "calling with key ***" in caplog.text


def test_cli_error_line_is_redacted(monkeypatch, capsys, tmp_path) -> None:
    from inspector.cli import main

    monkeypatch.setenv("GEMINI_API_KEY", CANARY)
    code = main(["inspect", "--ct", str(tmp_path / f"{CANARY}.png"), "--json"])
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("error:") and CANARY not in err
