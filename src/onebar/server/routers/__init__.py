"""The service's routers. Each module exposes `router`; adding an area is one module and one line here."""

from __future__ import annotations

ROUTERS: tuple[str, ...] = (
    "onebar.server.routers.health",
    "onebar.server.routers.hooks",  # early: routes match in order, and webhooks are the busiest callers
    "onebar.server.routers.session",
    "onebar.server.routers.tokens",
    "onebar.server.routers.repos",
    "onebar.server.routers.reports",
    "onebar.server.routers.events",
    "onebar.server.routers.gate_runs",
    "onebar.server.routers.jobs",
    "onebar.server.routers.metrics",
    "onebar.server.routers.audit",
    "onebar.server.routers.access",
    "onebar.server.routers.briefs",
    "onebar.server.pages",
)
