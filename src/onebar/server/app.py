"""The app factory: `create_app(settings)` builds the FastAPI app; nothing happens at import time.

The store is opened and the job workers started by the app's lifespan, and stopped by it: on
shutdown uvicorn first finishes in-flight requests, then the workers finish their running job.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from onebar import __version__
from onebar.server import problems
from onebar.server.deps import current_principal
from onebar.server.middleware import ServiceMiddleware
from onebar.server.routers import ROUTERS
from onebar.server.service import Service
from onebar.server.settings import ServiceSettings

DESCRIPTION = """onebar's service: the same delivery figures for every organisation, each caller seeing what
their role and employer allow. Send `Authorization: Bearer TOKEN` (see `onebar token create`).
Errors are `application/problem+json`; lists are arrays with a `Link: <...>; rel="next"` header."""


def create_app(settings: ServiceSettings | None = None, *, routers: tuple[str, ...] = ROUTERS) -> FastAPI:
    """Build the app from settings (default: flags-less `ServiceSettings()`: environment and config file)."""
    settings = settings if settings is not None else ServiceSettings()
    service = Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(service.start)
        try:
            yield
        finally:
            await run_in_threadpool(service.stop)

    app = FastAPI(
        title="onebar",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    problems.install(app)
    for name in routers:
        app.include_router(importlib.import_module(name).router)
    _docs(app, settings.public_docs)
    if "onebar.server.routers.reports" in routers:
        from onebar.server.routers.reports import KeptReports

        app.add_middleware(KeptReports, service=service)  # added first, so inside ServiceMiddleware
    app.add_middleware(
        ServiceMiddleware,
        metrics=service.metrics,
        max_body=settings.max_body_bytes,
        path_limits={"/hooks/": settings.max_hook_body_bytes},
    )
    return app


def _docs(app: FastAPI, public: bool) -> None:
    """/openapi.json and /docs: public by default (they describe the API, and hold no data)."""

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        if not public:
            await current_principal(request)
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        if not public:
            await current_principal(request)
        return get_swagger_ui_html(openapi_url="/openapi.json", title="onebar API")
