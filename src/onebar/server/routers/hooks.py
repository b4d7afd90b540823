"""Webhook receivers and the deliveries they stored.

    POST /hooks/github        verified by X-Hub-Signature-256 (no token)
    POST /hooks/gitlab        verified by X-Gitlab-Token (no token)
    POST /hooks/deployments   any CI or deploy tool, with a ci token of the repository
    GET  /api/v1/deliveries   stored deliveries (admin, auditor)

A receiver verifies, stores the raw body and queues the `deliveries` job in one short transaction,
and answers: 202 for a new delivery, 200 for one already stored, 401 for a bad or missing signature
(nothing stored; counted on the hook, in `onebar_webhook_deliveries_total` and in the audit log),
other 4xx problem documents for the rest. Processing is the job's (`onebar.jobs.deliveries`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from sqlalchemy import Connection

from onebar import audit
from onebar.auth.roles import Principal, Role, authorize
from onebar.codehost.deploy_hook import receive_deployment
from onebar.codehost.events import list_deliveries
from onebar.codehost.hooks import STORE_WAIT, Receipt, Receiver, SignatureError, Verified, busy
from onebar.errors import OnebarError, PermissionDeniedError
from onebar.jobs import deliveries as processing
from onebar.metrics.jsonable import iso
from onebar.repos.registry import get_repo
from onebar.server import pagination
from onebar.server.deps import allow, current_principal, service_of
from onebar.server.service import Service

router = APIRouter(tags=["hooks"])
# Seconds between a waiting receiver's tries at the store. Not less: uvloop counts timers in whole
# milliseconds and runs a shorter sleep at once, so the waiter would spin and starve the other writer.
STEP = 0.001
_lock = threading.Lock()


@dataclass
class _Hooks:
    """Per app: the receiver (hook secrets decrypted once) and the delivery counter."""

    receiver: Receiver
    counter: Counter
    # Receivers waiting for the store, in arrival order: one of them tries it every STEP, the
    # rest wait their turn (each trying alone would spend the CPU the event loop needs on tries).
    waiting: asyncio.Lock = field(default_factory=asyncio.Lock)


def _hooks(request: Request) -> _Hooks:
    state = getattr(request.app.state, "hooks", None)
    if state is not None:
        return state  # type: ignore[no-any-return]
    with _lock:
        state = getattr(request.app.state, "hooks", None)
        if state is None:
            service: Service = request.app.state.service
            receiver = Receiver(
                service.store,
                max_body=service.settings.max_hook_body_bytes,
                after=processing.queue_processing(service.store),
            )
            state = request.app.state.hooks = _Hooks(receiver, service.metrics.webhooks)
    return state


def _context(request: Request) -> dict[str, Any]:
    return {
        "request_id": getattr(request.state, "request_id", None),
        "client": request.client.host if request.client else None,
    }


async def _receive(request: Request, host: str) -> JSONResponse:
    hooks = _hooks(request)
    body = await request.body()
    try:
        # Inline, not in a thread: HMAC and one short transaction cost less than the thread hops and
        # GIL hand-offs. While another writer (the processing job, in this process or another) holds
        # the store, this request awaits and tries again, and the event loop serves the others.
        verified = hooks.receiver.verify(host, request.headers, body, context=_context(request))
        receipt = None if hooks.waiting.locked() else hooks.receiver.try_store(verified)
        if receipt is None:
            async with hooks.waiting:
                receipt = await _store_when_free(hooks.receiver, verified)
    except SignatureError:
        hooks.counter.labels(host, "rejected").inc()
        raise
    except OnebarError:
        hooks.counter.labels(host, "invalid").inc()
        raise
    return _accepted(request, hooks, host, receipt)


async def _store_when_free(receiver: Receiver, verified: Verified) -> Receipt:
    deadline = time.monotonic() + STORE_WAIT
    while True:
        receipt = receiver.try_store(verified)
        if receipt is not None:
            return receipt
        if time.monotonic() >= deadline:
            raise busy(receiver.store, STORE_WAIT)
        await asyncio.sleep(STEP)


def _accepted(request: Request, hooks: _Hooks, host: str, receipt: Receipt, **extra: Any) -> JSONResponse:
    hooks.counter.labels(host, "duplicate" if receipt.duplicate else "accepted").inc()
    if not receipt.duplicate:
        service: Service = request.app.state.service
        service.wake_workers()
    return JSONResponse({**receipt.to_dict(), **extra}, status_code=receipt.http_status)


@router.post("/hooks/github", status_code=202, summary="GitHub webhook deliveries (signed, no token)")
async def github(request: Request) -> JSONResponse:
    return await _receive(request, "github")


@router.post("/hooks/gitlab", status_code=202, summary="GitLab webhook deliveries (secret token, no bearer token)")
async def gitlab(request: Request) -> JSONResponse:
    return await _receive(request, "gitlab")


async def _reporter(request: Request) -> Principal:
    """The caller may report deployments: its own repository's (ci), or any (admin); the body names which."""
    principal = await current_principal(request)
    authorize(principal, "hooks.deployments", repo=principal.repo)
    return principal


@router.post("/hooks/deployments", status_code=202, summary="Report a deployment from any CI or deploy tool")
async def deployment(request: Request, principal: Principal = Depends(_reporter)) -> JSONResponse:
    """Body: `{"sha", "ref"?, "environment"?, "status"?, "at"?, "id"?, "repo"?, "url"?, "group"?, "creator"?}`;
    a ci token reports for its own repository (`repo` defaults to it)."""
    hooks = _hooks(request)
    service: Service = request.app.state.service
    body = await request.body()

    def check(repo: str) -> None:
        if principal.role is Role.CI and repo != principal.repo:
            raise PermissionDeniedError(
                f"this ci token is bound to repository {principal.repo!r}, not {repo!r}", field="repo"
            )
        get_repo(service.store, repo)

    def after(conn: Connection, receipt: Receipt) -> None:
        processing.queue_processing(service.store)(conn, receipt)
        audit.record(
            conn,
            actor=audit.Actor(token=str(principal.token_id), org=principal.org, via="api"),
            action="deployment.report",
            target=f"delivery:{receipt.delivery}",
            payload={"delivery_id": receipt.delivery_id, "request_id": _context(request)["request_id"]},
        )

    try:
        receipt, event = await run_in_threadpool(
            lambda: receive_deployment(
                service.store,
                body,
                content_type=request.headers.get("content-type"),
                default_repo=principal.repo,
                check=check,
                key=request.headers.get("idempotency-key"),
                after=after,
            )
        )
    except PermissionDeniedError:
        raise
    except OnebarError:
        hooks.counter.labels("ci", "invalid").inc()
        raise
    return _accepted(request, hooks, "ci", receipt, repo=event.repo or principal.repo)


@router.get("/api/v1/deliveries", summary="Stored webhook deliveries, newest first (never their bodies)")
def deliveries(
    request: Request, response: Response, status: str | None = None, hook: int | None = None,
    event: str | None = None, cursor: str | None = None,
    limit: int = Query(pagination.DEFAULT_LIMIT, ge=1, le=pagination.MAX_LIMIT),
    principal: Principal = Depends(allow("deliveries.list")), service: Service = Depends(service_of),
) -> list[dict[str, Any]]:  # fmt: skip
    rows = list_deliveries(
        service.store, limit=limit + 1, after=pagination.decode_int(cursor), status=status, hook_id=hook, event=event
    )
    page = rows[:limit]
    pagination.link_next(request, response, page[-1]["id"] if len(rows) > limit else None)
    return [{**r, "received_at": iso(r["received_at"])} for r in page]
