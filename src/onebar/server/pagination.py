"""Cursor pagination: list endpoints answer a JSON array, and a `Link: <...>; rel="next"` header while
more remain (as GitHub does). The cursor is opaque to clients: the last key seen, base64-encoded."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request, Response

from onebar.errors import UsageError

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def decode(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise UsageError(f"{cursor!r} is not a cursor this service gave out", field="cursor") from None


def decode_int(cursor: str | None) -> int | None:
    value = decode(cursor)
    if value is None:
        return None
    if not value.isdigit():
        raise UsageError(f"{cursor!r} is not a cursor this service gave out", field="cursor")
    return int(value)


def encode(key: str | int) -> str:
    return base64.urlsafe_b64encode(str(key).encode()).decode().rstrip("=")


def link_next(request: Request, response: Response, last_key: str | int | None) -> None:
    """Set the Link header to the next page (after `last_key`), or nothing when this page was the last."""
    if last_key is None:
        return
    cursor = encode(last_key)
    url = request.url.include_query_params(cursor=cursor)
    response.headers["Link"] = f'<{url}>; rel="next"'
    response.headers["X-Next-Cursor"] = cursor
