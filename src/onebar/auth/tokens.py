"""API tokens: created with a role and a scope, shown once, stored only as a hash, revocable, expiring.

A token is `onebar_` and 43 random URL-safe characters (256 bits). Its SHA-256 is stored, not the
token: with that much entropy a slow password hash adds nothing, and a fast one keeps every request
cheap. The hash is looked up by index and then compared with `hmac.compare_digest`, so no timing
difference tells how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from onebar.auth.roles import Principal, Role, parse_role
from onebar.errors import AuthenticationError, NotFoundError, UsageError
from onebar.store import Store
from onebar.store.schema_service import api_tokens, service_repos
from onebar.store.stamped import Stamped

PREFIX = "onebar_"
DAY = 86400
DEFAULT_EXPIRY_DAYS = 90
LAST_USED_EVERY = 60  # seconds: record a token's last use at most this often (a write per request is not free)


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: everything but its secret."""

    id: int
    prefix: str
    role: str
    org: str | None
    repo: str | None
    person: str | None
    note: str
    created_at: int
    created_by: str
    expires_at: int | None
    revoked_at: int | None
    last_used_at: int | None

    def state(self, now: int) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def to_json(self, now: int | None = None) -> dict[str, Any]:
        from onebar.metrics.jsonable import iso

        now = int(time.time()) if now is None else now
        return {
            "id": self.id,
            "prefix": self.prefix,
            "role": self.role,
            "org": self.org,
            "repo": self.repo,
            "person": self.person,
            "note": self.note,
            "state": self.state(now),
            "created": iso(self.created_at),
            "created_by": self.created_by,
            "expires": iso(self.expires_at),
            "revoked": iso(self.revoked_at),
            "last_used": iso(self.last_used_at),
        }


@dataclass(frozen=True)
class NewToken:
    """A token just created: the only time its secret exists outside the caller's hands."""

    token: str
    info: TokenInfo


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_expiry(value: str | int | None) -> int | None:
    """Days until a token expires: 90, '90d', or 'never' (None); default 90."""
    if value is None:
        return DEFAULT_EXPIRY_DAYS
    if isinstance(value, int):
        days = value
    else:
        text = value.strip().lower()
        if text in ("never", "none", "0"):
            return None
        m = re.fullmatch(r"(\d+)\s*d?", text)
        if not m:
            raise UsageError(f"{value!r} is not a number of days (e.g. 90 or 90d, or 'never')", field="expires")
        days = int(m.group(1))
    if days < 1 or days > 3650:
        raise UsageError(f"{days} days is out of range; give 1 to 3650 days, or 'never'", field="expires")
    return days


def create_token(
    store: Store,
    role: str,
    *,
    org: str | None = None,
    repo: str | None = None,
    person: str | None = None,
    expires: str | int | None = None,
    note: str = "",
    created_by: str = "cli",
    now: int | None = None,
) -> NewToken:
    """Create a token with a role and its scope; the secret is returned once and stored only as a hash."""
    r = parse_role(role)
    now = int(time.time()) if now is None else now
    org, repo, person = _blank(org), _blank(repo), _blank(person)
    if r in (Role.LEAD, Role.MEMBER) and not org:
        raise UsageError(f"a {r} token belongs to an organisation: name it", field="org")
    if r is Role.CI and not repo:
        raise UsageError("a ci token belongs to one repository: name it", field="repo")
    if r in (Role.ADMIN, Role.AUDITOR) and (org or repo or person):
        raise UsageError(f"an {r} token sees every organisation and repository; drop the scope", field="org")
    if r is not Role.CI and repo:
        raise UsageError(f"only a ci token is bound to a repository, not a {r} token", field="repo")
    if r is Role.CI and (org or person):
        raise UsageError("a ci token is bound to a repository, not to an organisation or person", field="org")
    days = parse_expiry(expires)
    secret = PREFIX + secrets.token_urlsafe(32)
    row = {
        "secret_hash": digest(secret),
        "prefix": secret[: len(PREFIX) + 6],
        "role": r.value,
        "org": org,
        "repo": repo,
        "person": person,
        "note": note,
        "created_at": now,
        "created_by": created_by,
        "expires_at": now + days * DAY if days is not None else None,
    }
    with store.write() as conn:
        if (
            repo is not None
            and conn.execute(select(service_repos.c.id).where(service_repos.c.name == repo)).first() is None
        ):
            raise NotFoundError(
                f"no repository named {repo!r} in the service", field="repo", hint="onebar repo add first"
            )
        new_id = int(conn.execute(insert(api_tokens).values(**row)).inserted_primary_key[0])  # type: ignore[index]
    return NewToken(secret, _info({**row, "id": new_id, "revoked_at": None, "last_used_at": None}))


def list_tokens(store: Store) -> list[TokenInfo]:
    with store.read() as conn:
        return [_info(r._mapping) for r in conn.execute(select(api_tokens).order_by(api_tokens.c.id))]


def revoke_token(store: Store, token_id: int, *, now: int | None = None) -> TokenInfo:
    """Revoke at once: the next request with it is refused (a revoked token stays listed)."""
    now = int(time.time()) if now is None else now
    with store.write() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
        if row is None:
            raise NotFoundError(f"no token with id {token_id}", field="id")
        if row.revoked_at is None:
            conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=now))
        info = _info({**row._mapping, "revoked_at": row.revoked_at or now})
    return info


Touch = Callable[[int, int], None]  # (token id, when): records a token's last use


def touch_now(store: Store) -> Touch:
    """Record a last use at once, in its own write transaction (the CLI; the service buffers them)."""

    def touch(token_id: int, when: int) -> None:
        record_uses(store, {token_id: when})

    return touch


def record_uses(store: Store, uses: Mapping[int, int]) -> None:
    """Store last-use times (token id -> Unix seconds), never moving one backwards; one transaction."""
    if not uses:
        return
    with store.write() as conn:
        for token_id, when in uses.items():
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id)
                .where((api_tokens.c.last_used_at.is_(None)) | (api_tokens.c.last_used_at < when))
                .values(last_used_at=when)
            )


def authenticate(
    store: Store,
    secret: str,
    *,
    now: int | None = None,
    touch: Touch | None = None,
    rows: Stamped[dict[str, Any] | None] | None = None,
) -> Principal:
    """The principal a presented token stands for; AuthenticationError when unknown, revoked or expired.

    `rows` (the service's) keeps token rows until the next commit to the store, a revocation's
    included, so the check costs no query while nothing changed and a revoked token is still refused
    on the next request."""
    now = int(time.time()) if now is None else now
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise AuthenticationError("not an onebar API token")
    wanted = digest(secret)

    def load() -> dict[str, Any] | None:
        with store.read() as conn:
            found = conn.execute(select(api_tokens).where(api_tokens.c.secret_hash == wanted)).first()
        return dict(found._mapping) if found is not None else None

    row = rows.get(wanted, load) if rows is not None else load()
    if row is None or not hmac.compare_digest(row["secret_hash"], wanted):
        raise AuthenticationError("unknown token")
    return principal_of(row, now, touch or touch_now(store))


def principal_of(row: Mapping[str, Any], now: int, touch: Touch, via: str = "token") -> Principal:
    """Check a token row is usable now, record its use (at most once a minute), and give its principal."""
    tid = int(row["id"])
    if row["revoked_at"] is not None:
        raise AuthenticationError(f"token {tid} was revoked")
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise AuthenticationError(f"token {tid} has expired")
    last = row["last_used_at"]
    if last is None or now - last >= LAST_USED_EVERY:
        touch(tid, now)
    return Principal(tid, Role(row["role"]), row["org"], row["repo"], row["person"], via)


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=int(row["id"]),
        prefix=row["prefix"],
        role=row["role"],
        org=row["org"],
        repo=row["repo"],
        person=row["person"],
        note=row["note"] or "",
        created_at=row["created_at"],
        created_by=row["created_by"] or "",
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None
