"""Request body limit enforced while the body streams in (ASGI middleware).

A declared ``Content-Length`` above the limit is answered 413 at once, before a byte of the body
is read. A body without one (chunked transfer) or with a false one is counted as the server
receives it: the first ``http.request`` message that takes the total past the limit raises
:class:`BodyTooLarge` inside the application's ``receive``, so the upload is never read further
(nor held in memory) and the application answers 413 ``{"error": ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["BodyLimitMiddleware", "BodyTooLarge"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """The request body passed the limit while it was being received.

    Attributes:
        limit: The limit in bytes.
        received: Bytes received when it was passed.
    """

    def __init__(self, limit: int, received: int) -> None:
        super().__init__(f"the request body is larger than the {limit} byte limit")
        self.limit = limit
        self.received = received


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_body`` bytes on paths starting with ``prefix``.

    Args:
        app: The wrapped ASGI application; it must turn :class:`BodyTooLarge` into a 413 answer
            (FastAPI: an exception handler), else the server answers 500.
        max_body: Largest accepted body in bytes.
        prefix: Only requests whose path starts with it are limited.
        message: The ``error`` sentence of an early 413 (declared ``Content-Length`` too large).
    """

    def __init__(self, app: ASGIApp, max_body: int, prefix: str = "/", message: str | None = None) -> None:
        self.app = app
        self.max_body = max_body
        self.prefix = prefix
        self.message = message or f"the request body is larger than the {max_body} byte limit"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await _send_413(send, self.message)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.max_body, received)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _send_413(send: Send, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
