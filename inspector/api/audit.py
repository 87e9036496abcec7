"""The audit row of one ``POST /v1/inspections``: who, what, which models, what was decided.

*Who* is the API key as a short salted hash (:func:`key_id`), never the key itself: the salt is
``INSPECTOR_AUDIT_SALT`` when set, else derived from the configured keys (stable across restarts
for the same key set, and unknown to anyone who does not hold the keys). An operator holding a
key finds its id with ``key_id(key, audit_salt(keys))``. *What* is every upload's sanitised file
name, size and SHA-256; then the models (checkpoint card names), the thresholds and policy that
decided, and the outcome (verdict, ``needs_review``, or the error status).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

from core.imageio import safe_label

__all__ = ["AUDIT_SALT_ENV", "ANONYMOUS", "audit_salt", "key_id", "upload_facts", "sanitise_name", "decision"]

#: Salt of the key ids in the audit log (any string); default: derived from the keys.
AUDIT_SALT_ENV = "INSPECTOR_AUDIT_SALT"
#: The audit ``user`` of a request to a server without API keys.
ANONYMOUS = "api:anonymous"
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
