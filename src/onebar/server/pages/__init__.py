"""The dashboard: server-rendered pages over the same library, access matrix and visibility policy as the API.

One router (registered in `onebar.server.routers.ROUTERS`) gathers the pages of each area; each
page's row of the matrix is in `onebar.auth.roles.PAGES`, and docs/dashboard.md describes them.
"""

from __future__ import annotations

from fastapi import APIRouter

from onebar.server.pages import access, ops, people, portfolio, repo, static

router = APIRouter(include_in_schema=False)
for _area in (static, portfolio, repo, people, ops, access):
    router.include_router(_area.router)
