"""The dashboard's two static files, open to anyone (the sign-in page uses them): the stylesheet and the icon.

Read once from the package, served with an ETag so a browser asks again only when onebar changes.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request, Response

router = APIRouter(include_in_schema=False)
FILES = {"onebar.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}


@cache
def _load(name: str) -> tuple[bytes, str]:
    body = files("onebar.server").joinpath("static", name).read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _serve(request: Request, name: str) -> Response:
    body, etag = _load(name)
    headers = {"ETag": etag, "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=FILES[name], headers=headers)


@router.get("/static/onebar.css")
async def stylesheet(request: Request) -> Response:
    return _serve(request, "onebar.css")


@router.get("/favicon.ico")
async def favicon(request: Request) -> Response:
    return _serve(request, "favicon.svg")
