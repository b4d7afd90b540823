"""The one seam through which the service audits: every refusal and every change of state calls `audit`.

Events go to issue 12's tamper-evident log (`onebar.audit.record`: hash-chained, one chain across
processes), one entry each, in a write transaction of their own right after the change they
describe. The payload is kept by the log only as a digest of its canonical JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from onebar import audit as audit_log
from onebar.auth.roles import Principal
from onebar.store import Store

log = logging.getLogger("onebar.audit")
OUTCOMES = {"ok": "success", "duplicate": "success", "success": "success", "refused": "refused"}


def actor_of(who: Principal | str | None) -> audit_log.Actor:
    """The audit log's actor: a token's person, id and organisation, or a face ("cli", "anonymous")."""
    if isinstance(who, Principal):
        return audit_log.Actor(
            person=who.person,
            token=str(who.token_id),
            org=who.org,
            via="web" if who.via == "session" else "api",
        )
    if who in (None, "anonymous"):
        return audit_log.Actor(via="api")
    return audit_log.Actor(via=str(who))


def audit(
    store: Store | None,
    *,
    actor: Principal | str | None,
    action: str,
    target: str = "",
    outcome: str = "ok",
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Record one audited event: who, did what (`action`, e.g. "token.create"), to what (`target`), how it
    ended ("ok", "duplicate" or "refused"), and what was asked (`payload`, kept as a digest; never a secret)."""
    if store is None:
        return
    body = dict(payload or {})
    if outcome == "duplicate":
        body["duplicate"] = True
    try:
        with store.write() as conn:
            audit_log.record(
                conn, actor=actor_of(actor), action=action, target=target or "-", payload=body,
                outcome=OUTCOMES.get(outcome, "success"),
            )  # fmt: skip
    except Exception:
        # A change that cannot be audited must not pass silently: log it, and fail the request or command.
        log.exception("could not append %s on %s to the audit log", action, target)
        raise
