"""Liveness and readiness: the only endpoints (with the sign-in page) an anonymous caller may reach."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from onebar import __version__
from onebar.server.service import Service
from onebar.store.migrate import current_revision
from onebar.store.schema import SCHEMA_REVISION

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="The store is reachable and its schema current")
async def readyz(request: Request) -> JSONResponse:
    service: Service = request.app.state.service

    def check() -> tuple[bool, str]:
        try:
            found = current_revision(service.store.engine)
        except Exception as exc:
            return False, f"store unreachable: {type(exc).__name__}"
        if found != SCHEMA_REVISION:
            return False, f"schema at {found}, this version needs {SCHEMA_REVISION}"
        return True, "ok"

    ready, detail = await run_in_threadpool(check)
    body = {"status": "ready" if ready else "not ready", "detail": detail, "schema": SCHEMA_REVISION}
    return JSONResponse(body, status_code=200 if ready else 503)
