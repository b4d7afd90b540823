"""`GET /metrics` in Prometheus' text format: an admin or auditor token, unless `metrics_public` is set."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST

from onebar.server.deps import allow
from onebar.server.service import Service

router = APIRouter(tags=["metrics"])
_check = allow("metrics")


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    service: Service = request.app.state.service
    if not service.settings.metrics_public:
        await _check(request)
    body = await run_in_threadpool(service.metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
