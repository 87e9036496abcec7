"""The audit row of one ``POST /v1/inspections``: who, what, which models, what was decided.

*Who* is the API key as a short salted hash (:func:`key_id`), never the key itself: the salt is
``INSPECTOR_AUDIT_SALT`` when set, else derived from the configured keys (stable across restarts
for the same key set, and unknown to anyone who does not hold the keys). An operator holding a
key finds its id with ``key_id(key, audit_salt(keys))``. *What* is every upload's sanitised file
name, size and SHA-256; then the models (checkpoint card names), the thresholds and policy that
decided, and the outcome (verdict, ``needs_review``, or the error status). A request refused for
a missing or wrong key is a row of its own (user :data:`UNAUTHENTICATED`, action
``api_auth_failed``: path, method, client address, whether a key was sent — never the key),
bounded by :class:`FailureLimiter`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.imageio import safe_label

__all__ = [
    "AUDIT_SALT_ENV",
    "ANONYMOUS",
    "UNAUTHENTICATED",
    "FailureLimiter",
    "audit_salt",
    "decision",
    "key_id",
    "sanitise_name",
    "upload_facts",
]

#: Salt of the key ids in the audit log (any string); default: derived from the keys.
AUDIT_SALT_ENV = "INSPECTOR_AUDIT_SALT"
#: The audit ``user`` of a request to a server without API keys.
ANONYMOUS = "api:anonymous"
#: The audit ``user`` of a request refused for a missing or wrong API key.
UNAUTHENTICATED = "api:unauthenticated"
_ID_HEX = 12


def audit_salt(keys: list[str], salt: str | None = None) -> bytes:
    """The salt of :func:`key_id`: ``salt``, else ``INSPECTOR_AUDIT_SALT``, else one from ``keys``.

    Args:
        keys: The accepted API keys (the fallback salt is a hash of all of them).
        salt: An explicit salt (``create_app(audit_salt=...)``).
    """
    chosen = salt if salt is not None else os.environ.get(AUDIT_SALT_ENV, "")
    if chosen:
        return chosen.encode()
    return hashlib.sha256(b"inspector-audit\0" + "\0".join(sorted(keys)).encode()).digest()


def key_id(key: str, salt: bytes) -> str:
    """``api:`` + the first 12 hex digits of HMAC-SHA256(salt, key): names a key, never reveals it."""
    return "api:" + hmac.new(salt, key.encode(), hashlib.sha256).hexdigest()[:_ID_HEX]


def sanitise_name(name: str | None, fallback: str) -> str:
    """The last path component of an uploaded file name, printable, at most 120 characters."""
    base = Path(str(name or "").replace("\\", "/")).name.strip()
    return safe_label(base if base not in ("", ".", "..") else fallback)


def upload_facts(name: str | None, data: bytes, fallback: str) -> dict[str, Any]:
    """``{"name", "bytes", "sha256"}`` of one upload (the name sanitised)."""
    return {
        "name": sanitise_name(name, fallback),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def decision(inspector: Any, sides: list[str]) -> dict[str, Any]:
    """The models (card names) and thresholds that decided an inspection of ``sides``.

    Args:
        inspector: The :class:`inspector.pipeline.Inspector` that ran it.
        sides: The sides that had an image (``"ct"``, ``"rgb"``).

    Returns:
        ``{"runtime", "models": {side: card name}, "thresholds": {side: value, "policy": ...}}``.
    """
    models: dict[str, str | None] = {}
    thresholds: dict[str, Any] = {"policy": inspector.settings.policy}
    for side in sides:
        predictor = (inspector.predictors or {}).get(side)
        if predictor is None:
            continue
        source = getattr(predictor, "source", None)
        card = getattr(predictor, "card", None) or {}
        models[side] = Path(source).stem if source else card.get("name")
        try:
            thresholds[side] = float(predictor.threshold_for(None))
        except Exception:  # a predictor without a threshold: nothing to record
            thresholds[side] = None
    return {"runtime": inspector.settings.runtime, "models": models, "thresholds": thresholds}


class FailureLimiter:
    """Bounds the audit rows of refused logins: at most ``per_window`` per ``window_s`` seconds.

    A client hammering the API with wrong keys must not fill the database; the refusals beyond
    the bound are counted and reported in the next row that is written (``suppressed``).

    Args:
        per_window: Rows allowed per window.
        window_s: Window length in seconds.
        clock: Monotonic clock (injectable for tests).
    """

    def __init__(self, per_window: int = 60, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.per_window, self.window_s, self.clock = int(per_window), float(window_s), clock
        self._lock = threading.Lock()
        self._start, self._count, self._suppressed = clock(), 0, 0

    def admit(self) -> int | None:
        """``None`` when this refusal must not be written, else the refusals suppressed before it."""
        with self._lock:
            now = self.clock()
            if now - self._start >= self.window_s:
                self._start, self._count = now, 0
            if self._count >= self.per_window:
                self._suppressed += 1
                return None
            self._count += 1
            suppressed, self._suppressed = self._suppressed, 0
            return suppressed
