"""Errors as RFC 9457 problem documents (`application/problem+json`), built from the one error tree.

Every `OnebarError` carries its HTTP status; its field (the query, path or body parameter at fault),
hint and request id go into the document. Validation errors from FastAPI name their field the same
way. Nothing becomes a 500 unless it is a bug, and a 500 shows no traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from onebar.auth.trail import audit
from onebar.errors import AuthenticationError, OnebarError, PermissionDeniedError

PROBLEM = "application/problem+json"
log = logging.getLogger("onebar.server")


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    field: str | None = None,
    retry_after: int | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank" if not extra.get("error") else f"https://onebar.dev/problems/{extra['error']}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "field": field,
        "request_id": getattr(request.state, "request_id", None),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": 'Bearer realm="onebar"'} if status == 401 else {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


async def onebar_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OnebarError)
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        service = getattr(request.app.state, "service", None)
        principal = getattr(request.state, "principal", None)
        audit(
            service.store if service is not None else None,
            actor=principal,
            action=f"http.{request.method.lower()}",
            target=request.url.path,
            outcome="refused",
            payload={"status": exc.http_status, "reason": exc.message},
        )
    if exc.http_status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    extra: dict[str, Any] = {"error": type(exc).__name__, "hint": exc.hint}
    data = exc.to_dict()
    if "problems" in data:
        extra["problems"] = data["problems"]
    return problem(
        request, exc.http_status, _title(exc.http_status), exc.message, field=exc.field, retry_after=exc.retry_after,
        **extra,
    )  # fmt: skip


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header")]
        if e.get("type") == "json_invalid":  # the body is not JSON at all: its position is no field
            loc = ["body"]
        errors.append({"field": ".".join(loc) or None, "message": e.get("msg", "invalid")})
    first = errors[0] if errors else {"field": None, "message": "invalid request"}
    detail = f"{first['field']}: {first['message']}" if first["field"] else str(first["message"])
    return problem(request, 422, _title(422), detail, field=first["field"], error="ValidationError", errors=errors)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # FastAPI raises 400 for a body it cannot parse, and this middleware 413 for one too large.
    field = "body" if exc.status_code in (400, 413) else None
    return problem(request, exc.status_code, _title(exc.status_code), str(exc.detail), field=field)


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(request, 500, _title(500), "an unexpected error; the request id finds it in the server log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(OnebarError, onebar_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
