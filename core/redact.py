"""Keep secrets out of errors, logs and pages: one helper every output path calls.

:func:`redact` replaces, in any text, the password of a URL (``scheme://user:PASSWORD@host``), the
value of every secret environment variable (:data:`SECRET_ENV_VARS`, each comma-separated part
of it too), and strings shaped like API keys (Google ``AIza...``, ``sk-...``, ``hf_...``
tokens). :class:`RedactingFilter` applies it to log records.
"""

from __future__ import annotations

import logging
import os
import re

__all__ = ["MASK", "SECRET_ENV_VARS", "RedactingFilter", "install_log_redaction", "redact"]

MASK = "***"
SECRET_ENV_VARS: tuple[str, ...] = (
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "INSPECTOR_API_KEYS",
    "INSPECTOR_DB_URL",
    "INSPECTOR_TEST_PG_URL",
    "HF_TOKEN",
    "OPENAI_API_KEY",
)
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^@\s/]+)(?P<at>@)")
_KEY_SHAPES = re.compile(r"\b(?:AIza[0-9A-Za-z_\-]{20,}|sk-[0-9A-Za-z_\-]{16,}|hf_[0-9A-Za-z]{16,})\b")


def _secret_values() -> list[str]:
    values = []
    for name in SECRET_ENV_VARS:
        raw = os.environ.get(name, "")
        for part in [raw, *raw.split(",")]:
            part = part.strip()
            if len(part) >= 6:  # never mask short, common strings
                values.append(part)
    return sorted(set(values), key=len, reverse=True)


def redact(text: object) -> str:
    """``text`` as a string with every secret it holds replaced by ``***``."""
    out = str(text)
    for value in _secret_values():
        out = out.replace(value, MASK)
    out = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + m.group("at"), out)
    return _KEY_SHAPES.sub(MASK, out)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging API
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(text)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add :class:`RedactingFilter` to ``logger`` (root by default) and its handlers, once."""
    logger = logger or logging.getLogger()
    for target in [logger, *logger.handlers]:
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())
