"""Browser sessions: an API token exchanged for a cookie, with a CSRF secret per session.

The cookie carries a random secret whose SHA-256 is stored, like a token's. A session lives no
longer than its token: revoking or expiring the token ends every session made from it at once.
Each session has its own CSRF value that every form must send back; it is compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from onebar.auth.roles import Principal
from onebar.auth.tokens import Touch, authenticate, digest, principal_of, touch_now
from onebar.errors import AuthenticationError, PermissionDeniedError
from onebar.store import Store
from onebar.store.schema_service import api_tokens, web_sessions

SESSION_TTL = 12 * 3600


@dataclass(frozen=True)
class Session:
    cookie: str  # the secret to set in the cookie (only known at creation)
    csrf: str
    principal: Principal
    expires_at: int


def start_session(store: Store, token: str, *, now: int | None = None, ttl: int = SESSION_TTL) -> Session:
    """Sign in with a token: a new session (the token must be valid now)."""
    now = int(time.time()) if now is None else now
    principal = authenticate(store, token, now=now)
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with store.write() as conn:
        expires = now + ttl
        tok = conn.execute(select(api_tokens.c.expires_at).where(api_tokens.c.id == principal.token_id)).scalar()
        if tok is not None:
            expires = min(expires, int(tok))
        conn.execute(
            insert(web_sessions).values(
                secret_hash=digest(cookie), token_id=principal.token_id, csrf=csrf, created_at=now, expires_at=expires
            )
        )
    return Session(cookie, csrf, Principal(**{**principal.__dict__, "via": "session"}), expires)


def session_principal(
    store: Store, cookie: str, *, now: int | None = None, touch: Touch | None = None
) -> tuple[Principal, str]:
    """The principal and CSRF value of a session cookie; AuthenticationError when it is not valid now."""
    now = int(time.time()) if now is None else now
    wanted = digest(cookie)
    with store.read() as conn:
        row = conn.execute(select(web_sessions).where(web_sessions.c.secret_hash == wanted)).first()
        token = (
            conn.execute(select(api_tokens).where(api_tokens.c.id == row.token_id)).first() if row is not None else None
        )
    if row is None or token is None or not hmac.compare_digest(row.secret_hash, wanted):
        raise AuthenticationError("unknown session; sign in again")
    if row.ended_at is not None or row.expires_at <= now:
        raise AuthenticationError("the session has ended; sign in again")
    return principal_of(dict(token._mapping), now, touch or touch_now(store), via="session"), str(row.csrf)


def end_session(store: Store, cookie: str, *, now: int | None = None) -> None:
    now = int(time.time()) if now is None else now
    with store.write() as conn:
        conn.execute(update(web_sessions).where(web_sessions.c.secret_hash == digest(cookie)).values(ended_at=now))


def check_csrf(expected: str | None, given: str | None) -> None:
    """A form's CSRF value must equal the session's (constant-time); PermissionDeniedError otherwise."""
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise PermissionDeniedError("missing or wrong CSRF token; reload the form and try again", field="csrf")
