"""Webhook registration and reception: verify, deduplicate, store the raw body; processing is a job.

`Receiver.receive` is what `POST /hooks/github` and `POST /hooks/gitlab` call with the raw body and
headers. It checks, in order: the content type, the size limit, the headers the host always sends,
the signature (GitHub: `X-Hub-Signature-256`, HMAC-SHA256 of the raw body; GitLab: `X-Gitlab-Token`;
both compared in constant time against each active hook's secret), that the body is a JSON object;
then it stores the delivery once per (hook, delivery id) in one short transaction, in which the caller
may also queue the job that processes it (`after`). A bad or missing signature stores nothing: it is
counted against the hook and written to the audit log (`onebar.audit`) in one transaction, and
reported to `on_reject` (the service counts it for Prometheus).

The delivery id: GitHub's `X-GitHub-Delivery` (it names the event, not the hook, so two hooks on one
repository both keep it); GitLab's `Idempotency-Key`, else `X-Gitlab-Webhook-UUID`, else
`X-Gitlab-Event-UUID`, else the SHA-256 of the body (GitLab before 17.4 sends no stable key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from cryptography.fernet import MultiFernet
from sqlalchemy import Connection, func, insert, select, update

from onebar import audit
from onebar.codehost.crypto import decrypt, encrypt, secret_box
from onebar.errors import StoreBusyError, UsageError
from onebar.store import Store
from onebar.store.db import WAIT_STEP, driver_sql
from onebar.store.schema_codehost import deliveries, hooks

HOSTS = ("github", "gitlab")
URLS = {"github": "/hooks/github", "gitlab": "/hooks/gitlab", "ci": "/hooks/deployments"}
MAX_BODY = 25 * 1024 * 1024  # GitHub sends no payload above 25 MB
JSON_TYPES = ("application/json", "application/x-www-form-urlencoded")


class SignatureError(UsageError):
    """A delivery whose signature or token is missing or matches no registered hook."""

    http_status = 401


class PayloadTooLarge(UsageError):
    http_status = 413


class UnsupportedMediaType(UsageError):
    http_status = 415


@dataclass(frozen=True)
class CreatedHook:
    id: int
    host: str
    repo: str
    url: str
    secret: str  # shown once, stored encrypted


@dataclass(frozen=True)
class Verified:
    """A delivery whose signature, headers and body passed: what `Receiver.store` stores."""

    hook: int
    delivery_id: str
    event: str
    body: bytes


@dataclass(frozen=True)
class Receipt:
    """What a receiver answers: 202 for a new delivery, 200 for one already stored."""

    delivery: int
    hook: int
    delivery_id: str
    event: str
    duplicate: bool

    @property
    def http_status(self) -> int:
        return 200 if self.duplicate else 202

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivery": self.delivery,
            "hook": self.hook,
            "delivery_id": self.delivery_id,
            "event": self.event,
            "duplicate": self.duplicate,
        }


def add_hook(
    store: Store, host: str, repo_name: str, secret: str | None = None, *, now: int | None = None
) -> CreatedHook:
    """Register a hook for the onebar repository `repo_name`; a secret is generated when none is given."""
    if host not in HOSTS:
        raise UsageError(f"{host!r} is not a code host onebar receives hooks from: {', '.join(HOSTS)}", field="host")
    if not repo_name.strip():
        raise UsageError("name the onebar repository the hook feeds", field="repo")
    if secret is not None and len(secret) < 8:
        raise UsageError("a hook secret needs 8 characters or more", field="secret")
    secret = secret or secrets.token_urlsafe(32)
    token = encrypt(secret)
    with store.write() as conn:
        new = conn.execute(
            insert(hooks).values(
                host=host,
                repo_name=repo_name.strip(),
                secret=token,
                created_at=now if now is not None else int(time.time()),
                active=True,
                rejected=0,
            )
        )
        hid = int(new.inserted_primary_key[0])  # type: ignore[index]
    return CreatedHook(hid, host, repo_name.strip(), URLS[host], secret)


def list_hooks(store: Store) -> list[dict[str, Any]]:
    """Every hook with its delivery count; secrets are never shown again."""
    with store.read() as conn:
        counts: dict[int, int] = {
            int(k): int(v)
            for k, v in conn.execute(select(deliveries.c.hook_id, func.count()).group_by(deliveries.c.hook_id))
        }
        rows = conn.execute(select(hooks).order_by(hooks.c.id)).all()
    return [
        {
            "id": r.id,
            "host": r.host,
            "repo": r.repo_name,
            "url": URLS.get(r.host, ""),
            "active": r.active,
            "deliveries": int(counts.get(r.id, 0)),
            "rejected": r.rejected,
            "created_at": r.created_at,
        }
        for r in rows
    ]


def github_signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value GitHub sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_github(secret: str, body: bytes, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(github_signature(secret, body).encode(), str(header).strip().encode())


def verify_gitlab(secret: str, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(secret.encode(), str(header).encode())


@dataclass
class _Hook:
    id: int
    host: str
    repo: str
    secret: str


# Called inside the transaction that stores a new delivery (the service queues its processing job there).
AfterStore = Callable[[Connection, Receipt], None]

# One code-host writer at a time in this process (receivers and the processing job): SQLite's busy
# handler would otherwise sleep in steps of several milliseconds whenever two threads collide on its
# write lock. A receiver never waits on it (or on the store's lock) while holding the other: it tries
# both and, when either is taken, lets go and tries again `WAIT_STEP` later (`Receiver.try_store`),
# so a receiver is never parked in SQLite's busy handler while every other one queues behind it.
WRITE_LOCK = threading.Lock()
STORE_WAIT = 5.0  # seconds a receiver tries to store a delivery before it answers 503 (GitHub gives up at 10)


@dataclass
class Receiver:
    """Receives deliveries for every active hook of a store; secrets are decrypted once and kept in memory."""

    store: Store
    max_body: int = MAX_BODY
    on_reject: Callable[[dict[str, Any]], None] | None = None
    after: AfterStore | None = None
    clock: Callable[[], float] = time.time
    box: MultiFernet | None = None
    rejected: int = 0
    _hooks: dict[str, list[_Hook]] = field(default_factory=dict)
    _loaded_at: float = 0.0

    def hooks_of(self, host: str) -> list[_Hook]:
        """Active hooks of a host, reloaded at most every 5 s (a new hook is live within seconds)."""
        if self.clock() - self._loaded_at > 5 or not self._hooks:
            found: dict[str, list[_Hook]] = {}
            with self.store.read() as conn:
                rows = conn.execute(select(hooks).where(hooks.c.active.is_(True), hooks.c.host.in_(HOSTS))).all()
            if rows:  # no hook yet needs no key: every delivery is then refused as unsigned
                box = self.box or secret_box()
                for r in rows:
                    found.setdefault(r.host, []).append(_Hook(r.id, r.host, r.repo_name, decrypt(r.secret, box)))
            self._hooks, self._loaded_at = found, self.clock()
        return self._hooks.get(host, [])

    def receive(
        self,
        host: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        content_type: str | None = None,
        hook_id: int | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Receipt:
        """Verify and store one delivery; raises a 4xx-mapped error and stores nothing when it is bad,
        `StoreBusyError` (503) when the store stayed locked by other writers for `STORE_WAIT`.

        `context` (the caller's request id, address) goes into the audit entry of a refusal.
        """
        return self.store_verified(
            self.verify(host, headers, body, content_type=content_type, hook_id=hook_id, context=context)
        )

    def verify(
        self,
        host: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        content_type: str | None = None,
        hook_id: int | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Verified:
        """Check one delivery (see `receive`) without storing it."""
        h = {k.lower(): v for k, v in headers.items()}
        if host not in HOSTS:
            raise UsageError(f"no receiver for {host!r}", field="host")
        ctype = (content_type or h.get("content-type") or "").split(";")[0].strip().lower()
        if ctype not in JSON_TYPES:
            raise UnsupportedMediaType(
                f"Content-Type {ctype or '(none)'} is not accepted: send application/json", field="content-type"
            )
        if len(body) > self.max_body:
            raise PayloadTooLarge(f"the body is {len(body)} bytes, over the {self.max_body} byte limit", field="body")
        if host == "github":
            event, delivery_id = h.get("x-github-event"), h.get("x-github-delivery")
            if not event:
                raise UsageError("the X-GitHub-Event header is missing", field="X-GitHub-Event")
            if not delivery_id:
                raise UsageError("the X-GitHub-Delivery header is missing", field="X-GitHub-Delivery")
            hook = self._match(
                host, body, hook_id, lambda hk: verify_github(hk.secret, body, h.get("x-hub-signature-256")), context
            )
        else:
            event = h.get("x-gitlab-event")
            if not event:
                raise UsageError("the X-Gitlab-Event header is missing", field="X-Gitlab-Event")
            delivery_id = (
                h.get("idempotency-key")
                or h.get("x-gitlab-webhook-uuid")
                or h.get("x-gitlab-event-uuid")
                or "sha256:" + hashlib.sha256(body).hexdigest()
            )
            hook = self._match(
                host, body, hook_id, lambda hk: verify_gitlab(hk.secret, h.get("x-gitlab-token")), context
            )
        if len(delivery_id) > 200:
            raise UsageError("the delivery id is longer than 200 characters", field="delivery_id")
        payload_of(body, ctype)  # a verified body must still be a JSON object
        return Verified(hook.id, delivery_id, event[:100], body)

    def _match(
        self,
        host: str,
        body: bytes,
        hook_id: int | None,
        ok: Callable[[_Hook], bool],
        context: Mapping[str, Any] | None = None,
    ) -> _Hook:
        candidates = self.hooks_of(host)
        if hook_id is not None:
            candidates = [hk for hk in candidates if hk.id == hook_id]
        named = _repo_hint(body)
        if named and len(candidates) > 1:  # the hook of the named repository first: one HMAC, usually
            candidates = sorted(candidates, key=lambda hk: hk.repo.lower() != named.lower())
        for hk in candidates:
            if ok(hk):
                return hk
        self.rejected += 1
        blamed = [hk.id for hk in candidates if named and hk.repo.lower() == named.lower()] or (
            [candidates[0].id] if len(candidates) == 1 else []
        )
        what = "X-Hub-Signature-256" if host == "github" else "X-Gitlab-Token"
        info = {"host": host, "hooks": blamed, "repository": named, "reason": f"bad or missing {what}"}
        with self.store.write() as conn:
            if blamed:
                conn.execute(update(hooks).where(hooks.c.id.in_(blamed)).values(rejected=hooks.c.rejected + 1))
            audit.record(
                conn,
                actor=audit.Actor(via="webhook"),
                action="hook.delivery.reject",
                target=f"hook:{blamed[0]}" if len(blamed) == 1 else URLS[host],
                payload={**info, **(context or {})},
                outcome="refused",
            )
        if self.on_reject is not None:
            self.on_reject(info)
        raise SignatureError(f"the {what} matches no registered {host} hook", field=what)

    def try_store(self, v: Verified) -> Receipt | None:
        """Store a verified delivery if no other writer holds the write lock (this process's, or the
        store's: SQLite); None if one does, having waited for neither. PostgreSQL waits for its lock."""
        if WRITE_LOCK.locked() or not self.store.write_free() or not WRITE_LOCK.acquire(blocking=False):
            return None
        try:
            with self.store.write(wait=0) as conn:
                return store_delivery(conn, v.hook, v.delivery_id, v.event, v.body, int(self.clock()), self.after)
        except StoreBusyError:
            return None
        finally:
            WRITE_LOCK.release()

    def store_verified(self, v: Verified, wait: float = STORE_WAIT) -> Receipt:
        """Store a verified delivery, trying every `WAIT_STEP` for up to `wait` seconds (then
        `StoreBusyError`). The service's event loop calls `try_store` and awaits between tries."""
        deadline = time.monotonic() + wait
        while True:
            receipt = self.try_store(v)
            if receipt is not None:
                return receipt
            if time.monotonic() >= deadline:
                raise busy(self.store, wait)
            time.sleep(WAIT_STEP)


def busy(store: Store, wait: float) -> StoreBusyError:
    """What a receiver raises when other writers held the store for all of `wait` seconds."""
    return StoreBusyError(
        f"the delivery was not stored: other writers held the store {store.url} for {wait:g} s",
        hint="send it again (GitHub: redeliver it from the hook's Recent Deliveries)",
    )


# The hot path of every delivery, as the driver's own SQL (SQLAlchemy's statement building costs
# more than the database's work here): insert unless (hook, delivery id) is stored, else read it.
_INSERT = (
    "INSERT INTO deliveries (hook_id, delivery_id, event, received_at, body, status, attempts) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, 'pending', 0) ON CONFLICT (hook_id, delivery_id) DO NOTHING RETURNING id"
)
_FOUND = "SELECT id, event FROM deliveries WHERE hook_id = {p} AND delivery_id = {p}"


def store_delivery(
    conn: Connection,
    hook_id: int,
    delivery_id: str,
    event: str,
    body: bytes,
    received_at: int,
    after: AfterStore | None = None,
) -> Receipt:
    """Store a verified delivery once per (hook, delivery id), in the caller's transaction."""
    new = conn.exec_driver_sql(driver_sql(conn, _INSERT), (hook_id, delivery_id, event, received_at, body)).first()
    if new is None:
        found = conn.exec_driver_sql(driver_sql(conn, _FOUND), (hook_id, delivery_id)).one()
        return Receipt(int(found[0]), hook_id, delivery_id, str(found[1]), True)
    receipt = Receipt(int(new[0]), hook_id, delivery_id, event, False)
    if after is not None:
        after(conn, receipt)
    return receipt


def payload_of(body: bytes, content_type: str = "application/json") -> dict[str, Any]:
    """The JSON object of a body (GitHub's form encoding carries it in `payload`); UsageError otherwise."""
    try:
        if content_type == "application/x-www-form-urlencoded":
            form = parse_qs(body.decode("utf-8"), strict_parsing=True)
            text = form["payload"][0]
        else:
            text = body.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError, KeyError) as exc:
        raise UsageError(f"the body is not a JSON payload: {exc}", field="body") from None
    if not isinstance(data, dict):
        raise UsageError("the JSON payload is not an object", field="body")
    return data


def _repo_hint(body: bytes) -> str | None:
    """The repository name an (unverified) body claims, to count a rejection against its hook."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    repo = data.get("repository") or data.get("project") or {}
    if isinstance(repo, dict):
        name = repo.get("name") or repo.get("path")
        return str(name)[:200] if name else None
    return None
