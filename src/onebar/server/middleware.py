"""ASGI middleware: a request id on every request and log line, latency histograms, a body size limit.

Written as plain ASGI (not BaseHTTPMiddleware) so a request pays two function calls, not a task.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onebar.server.metrics import Metrics

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("onebar_request_id", default=None)
access_log = logging.getLogger("onebar.access")
_GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every log record (as `request_id`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class ServiceMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, max_body: int, path_limits: dict[str, int] | None = None):
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.path_limits = tuple((path_limits or {}).items())  # path prefix -> its own body limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = _header(scope, b"x-request-id")
        rid = given if given and _GOOD_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        status = 500
        limit = next((n for prefix, n in self.path_limits if scope["path"].startswith(prefix)), self.max_body)
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(scope, send, rid, limit)
            request_id_var.reset(token)
            return

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # a chunked body with no Content-Length
                    raise HTTPException(413, f"the request body is larger than {limit} bytes")
            return message

        try:
            await self.app(scope, receive_limited, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            self.metrics.observe_request(scope["method"], template, status, elapsed)
            access_log.info(
                "%s %s %s %.1fms", scope["method"], scope["path"], status, elapsed * 1000,
                extra={"request_id": rid},
            )  # fmt: skip
            request_id_var.reset(token)


async def _too_large(scope: Scope, send: Send, rid: str, limit: int) -> None:
    body = json.dumps({
        "type": "about:blank", "title": "Content Too Large", "status": 413,
        "detail": f"the request body is larger than {limit} bytes", "instance": scope["path"],
        "field": "body", "request_id": rid,
    }).encode()  # fmt: skip
    headers: list[Any] = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", rid.encode()),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return bytes(v).decode("latin-1")
    return None
