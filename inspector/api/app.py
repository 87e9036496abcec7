"""The REST API: ``GET /health``, ``POST /v1/inspections``, ``GET /v1/inspections/{id}``.

Every error is ``{"error": "<one sentence>"}`` (redacted, never a stack trace). With API keys
configured (``INSPECTOR_API_KEYS``, comma-separated, or ``create_app(api_keys=...)``) every
``/v1`` call needs the header ``X-API-Key``. Inspections run in a bounded pool: at most
``max_workers`` at once and ``queue_limit`` waiting; beyond that the API answers 503.

Uploads are limited while they stream in (:class:`inspector.api.limits.BodyLimitMiddleware`:
a body past two images + form slack gets 413 without being read further, chunked or not), and
every ``POST /v1/inspections`` that passed the key check writes one row into the history
store's audit log (:mod:`inspector.api.audit`: key id hash, upload names/sizes/SHA-256, models,
thresholds, verdict, ``needs_review``, or the refused request's status).

Example::

    uvicorn --factory inspector.api:create_app
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import CheckpointError, InputError, InspectorError
from core.imageio import DEFAULT_MAX_BYTES, SUPPORTED_FORMATS, load_image, safe_label, sniff_format
from core.redact import redact
from inspector.api import audit as audit_mod
from inspector.api.limits import BodyLimitMiddleware, BodyTooLarge
from inspector.history import HistoryStore, default_url
from inspector.pipeline import InspectionRequest, Inspector, run_inspection
from inspector.settings import InspectorSettings

log = logging.getLogger(__name__)

__all__ = ["API_KEYS_ENV", "ApiError", "WorkerPool", "create_app", "max_body_bytes"]

#: Comma-separated API keys; when set, every ``/v1`` call needs one in ``X-API-Key``.
API_KEYS_ENV = "INSPECTOR_API_KEYS"
#: Multipart overhead allowed on top of two images before the body is refused unread.
_FORM_SLACK = 64 * 1024
_SIDES = ("ct", "rgb")


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class WorkerPool:
    """At most ``max_workers`` jobs run at once and at most ``queue_limit`` wait; no more.

    :meth:`try_acquire` takes one of the ``max_workers + queue_limit`` admission slots without
    blocking; :meth:`run` runs a job on the pool and gives its slot back when it ends.
    """

    def __init__(self, max_workers: int = 2, queue_limit: int = 8) -> None:
        if max_workers < 1 or queue_limit < 0:
            raise ValueError("max_workers must be >= 1 and queue_limit >= 0")
        self.executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="inspector-api")
        self._slots = threading.BoundedSemaphore(max_workers + queue_limit)

    def try_acquire(self) -> bool:
        """Take an admission slot; ``False`` when the pool and its queue are full."""
        return self._slots.acquire(blocking=False)

    def release(self) -> None:
        """Give an admission slot back."""
        self._slots.release()

    async def run(self, job: Any, *args: Any) -> Any:
        """Run ``job(*args)`` on the pool (the caller holds a slot; it is released here)."""
        try:
            future = self.executor.submit(job, *args)
        except BaseException:
            self.release()
            raise
        future.add_done_callback(lambda _f: self.release())
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def max_body_bytes(max_bytes: int) -> int:
    """Largest accepted ``POST /v1/inspections`` body: two images of ``max_bytes`` + form slack."""
    return 2 * max_bytes + _FORM_SLACK


def _keys_from_env() -> list[str]:
    return [k.strip() for k in os.environ.get(API_KEYS_ENV, "").split(",") if k.strip()]


def _scrub(message: str, keys: list[str]) -> str:
    """``message`` on one line, redacted, without any of ``keys``."""
    text = " ".join(redact(message).splitlines())
    for key in keys:  # keys given to create_app() are not in the environment redact() reads
        text = text.replace(key, "***")
    return text


def _error(status: int, message: str, keys: list[str]) -> JSONResponse:
    return JSONResponse({"error": _scrub(message, keys)}, status_code=status)


def _model_cards(inspector: Inspector) -> dict[str, dict[str, Any]]:
    models = {}
    for side, predictor in inspector.predictors.items():
        if predictor is None:
            continue
        card = getattr(predictor, "card", {}) or {}
        source = getattr(predictor, "source", None)
        models[side] = {
            "checkpoint": Path(source).stem if source else card.get("name"),
            "architecture": card.get("architecture"),
            "task": card.get("task"),
        }
    return models


def create_app(
    settings: InspectorSettings | None = None,
    history_url: str | None = None,
    api_keys: list[str] | None = None,
    max_workers: int = 2,
    queue_limit: int = 8,
    max_bytes: int = DEFAULT_MAX_BYTES,
    audit_salt: str | None = None,
) -> FastAPI:
    """Build the API: loads the models once and opens the history store.

    Args:
        settings: Inspector settings (default: :class:`InspectorSettings` defaults).
        history_url: Database of stored inspections (default: ``INSPECTOR_DB_URL`` / SQLite).
        api_keys: Accepted ``X-API-Key`` values (default: ``INSPECTOR_API_KEYS``; none: open).
        max_workers: Inspections run at once.
        queue_limit: Inspections that may wait for a worker; more get 503.
        max_bytes: Largest accepted upload per image, in bytes (larger: 413). The whole body
            may hold two such images plus form overhead; beyond that the upload is refused
            while it streams in, without being read further.
        audit_salt: Salt of the API key ids in the audit log (default:
            ``INSPECTOR_AUDIT_SALT``, else derived from the keys; see :mod:`inspector.api.audit`).

    Raises:
        CheckpointError: An explicitly given checkpoint cannot be loaded.
    """
    inspector = Inspector.load(settings or InspectorSettings())
    store = HistoryStore(history_url or default_url())
    keys = [k for k in (api_keys if api_keys is not None else _keys_from_env()) if k]
    pool = WorkerPool(max_workers, queue_limit)
    salt = audit_mod.audit_salt(keys, audit_salt)
    auth_failures = audit_mod.FailureLimiter()
    body_limit = max_body_bytes(max_bytes)
    too_large = f"the upload is larger than the {max_bytes} byte limit per image"

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        pool.shutdown()

    app = FastAPI(title="Battery inspector API", version="1", lifespan=lifespan)
    app.state.inspector, app.state.store, app.state.pool = inspector, store, pool
    app.add_middleware(BodyLimitMiddleware, max_body=body_limit, prefix="/v1/", message=too_large)

    @app.exception_handler(BodyTooLarge)
    async def _body_too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return _error(413, too_large, keys)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, keys)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), keys)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(422, f"invalid request: {where} {first.get('msg', '')}".strip(), keys)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error(500, "internal error", keys)

    def require_key(request: Request) -> str:
        """Check ``X-API-Key``; the caller's audit name (a salted hash of the key, never the key)."""
        if not keys:
            return audit_mod.ANONYMOUS
        raw = request.headers.get("x-api-key", "")
        given = raw.encode()
        ok = False
        for key in keys:  # compare with every key: no early exit
            ok |= hmac.compare_digest(given, key.encode())
        if not ok:
            suppressed = auth_failures.admit()
            if suppressed is not None:
                detail = {
                    "channel": "api",
                    "status": 401,
                    "method": request.method,
                    "path": request.url.path,
                    "client": request.client.host if request.client else None,
                    "key_given": bool(raw),
                    "suppressed": suppressed,
                }
                try:
                    store.audit(audit_mod.UNAUTHENTICATED, "api_auth_failed", detail)
                except Exception:
                    log.exception("could not write the audit row of a refused API key")
            raise ApiError(401, "missing or invalid API key (header X-API-Key)")
        return audit_mod.key_id(raw, salt)

    async def write_audit(who: str, detail: dict[str, Any]) -> None:
        try:
            await run_in_threadpool(store.audit, who, "api_inspect", detail)
        except Exception:
            log.exception("could not write the audit row of an API inspection")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "models": _model_cards(inspector)}

    @app.post("/v1/inspections")
    async def create_inspection(request: Request, who: str = Depends(require_key)) -> JSONResponse:
        detail: dict[str, Any] = {"channel": "api", "uploads": {}}
        try:
            result = await _create(request, detail, who)
        except BaseException as exc:
            if isinstance(exc, ApiError):
                status, error = exc.status, _scrub(exc.message, keys)
            elif isinstance(exc, asyncio.CancelledError):
                status, error = None, "cancelled (the client went away)"
            else:
                status, error = 500, "internal error"
            detail.update(status=status, error=error, verdict=None, needs_review=None)
            await write_audit(who, detail)
            raise
        detail.update(
            status=200,
            history_id=result["id"],
            verdict=result.get("verdict"),
            needs_review=result.get("needs_review"),
            review_reasons=result.get("review_reasons"),
        )
        await write_audit(who, detail)
        return JSONResponse(result)

    async def _create(request: Request, detail: dict[str, Any], who: str) -> dict[str, Any]:
        """Parse, check and run one inspection; fills ``detail`` (the audit row) on the way."""
        try:
            form = await request.form(max_files=2, max_fields=10)
        except BodyTooLarge:
            raise ApiError(413, too_large) from None
        except Exception as exc:  # malformed multipart body
            raise ApiError(422, f"the request is not a valid multipart form: {exc}") from None
        try:
            fields = {name: form.get(name) for name in ("battery_type", "axis", "vlm", "vlg", "lang")}
            if any(v is not None and not isinstance(v, str) for v in fields.values()):
                raise ApiError(422, "battery_type, axis, vlm, vlg and lang must be form fields, not files")
            uploads = {side: form.get(side) for side in _SIDES}
            detail.update({k: safe_label(v, 64) for k, v in fields.items() if isinstance(v, str)})
            if not any(isinstance(u, UploadFile) for u in uploads.values()):
                raise ApiError(422, "give a CT image (file 'ct'), an RGB image (file 'rgb'), or both")
            if not pool.try_acquire():
                raise ApiError(503, "busy, retry later")
            try:
                images = {
                    side: await _read_upload(side, u, max_bytes, detail["uploads"]) for side, u in uploads.items()
                }
            except BaseException:
                pool.release()
                raise
        finally:
            await form.close()
        names = {side: safe_label(u.filename or side) for side, u in uploads.items() if isinstance(u, UploadFile)}
        detail.update(audit_mod.decision(inspector, [s for s in _SIDES if images.get(s)]))
        job_args = (inspector, store, images, names, fields, who)
        try:
            result = await pool.run(_inspect, *job_args)
        except InputError as exc:
            raise ApiError(400, str(exc)) from None
        except CheckpointError as exc:
            log.warning("inspection refused: %s", exc)
            raise ApiError(503, "a model this inspection needs is not loaded on this server") from None
        except InspectorError as exc:
            raise ApiError(400, str(exc)) from None
        return result

    @app.get("/v1/inspections/{inspection_id}", dependencies=[Depends(require_key)])
    def get_inspection(inspection_id: int) -> JSONResponse:
        try:
            record = store.get(inspection_id)
        except InspectorError:
            raise ApiError(404, f"no stored inspection has id {inspection_id}") from None
        return JSONResponse({**record.inspection, "id": record.id})

    return app


async def _read_upload(side: str, upload: Any, max_bytes: int, facts: dict[str, Any]) -> bytes | None:
    """The bytes of one uploaded image (413 above ``max_bytes``, 415 when not an image).

    ``facts[side]`` receives the upload's audit facts (sanitised name, size, SHA-256) once it is
    read, also when it is then refused; above the limit only its name and ``"bytes": None``.
    """
    if not isinstance(upload, UploadFile):
        return None
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        facts[side] = {"name": audit_mod.sanitise_name(upload.filename, side), "bytes": None, "sha256": None}
        raise ApiError(413, f"{side} is larger than the {max_bytes} byte limit")
    facts[side] = audit_mod.upload_facts(upload.filename, data, side)
    if not data:
        raise ApiError(400, f"{side} is empty (0 bytes)")
    if sniff_format(data) is None and data[:6] not in (b"GIF87a", b"GIF89a"):
        raise ApiError(415, f"{side} is not a supported image type (supported: {', '.join(SUPPORTED_FORMATS)})")
    return data


def _inspect(
    inspector: Inspector,
    store: HistoryStore,
    images: dict[str, bytes | None],
    names: dict[str, str],
    fields: dict[str, str | None],
    who: str = "api",
) -> dict[str, Any]:
    """Worker body: decode, inspect (verdict + optional VLM/VLG), store as ``who``; the JSON with ``id``."""
    lang = fields.get("lang") or "en"
    if lang not in ("ko", "en"):
        raise InputError(f"lang must be 'ko' or 'en', not {safe_label(lang)!r}")
    for name, allowed in (("battery_type", ("cell", "module")), ("axis", ("x", "y"))):
        value = fields.get(name)
        if value and value not in allowed:
            raise InputError(f"{name} must be one of {', '.join(allowed)}, not {safe_label(value)!r}")
    request = InspectionRequest(
        ct=load_image(images["ct"], "ct", name=names.get("ct")) if images.get("ct") else None,
        rgb=load_image(images["rgb"], "rgb", name=names.get("rgb")) if images.get("rgb") else None,
        battery_type=fields.get("battery_type") or None,
        axis=fields.get("axis") or None,
        lang=lang,
    )
    result = run_inspection(
        inspector, request, vlm=fields.get("vlm") or "none", vlg=fields.get("vlg") or "none"
    )
    record_id = store.add(result, ct_name=names.get("ct"), rgb_name=names.get("rgb"), user=who)
    return {**result, "id": record_id}
