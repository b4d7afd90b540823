"""The one seam through which the service audits: every refusal and every change of state calls `audit`.

Issue 12's tamper-evident log (`onebar.audit`) is the destination; until it is on this branch the
events go to the `onebar.audit` logger as one JSON line each, with the same fields.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

from onebar.store import Store

log = logging.getLogger("onebar.audit")


def audit(
    store: Store | None,
    *,
    actor: str,
    action: str,
    target: str = "",
    outcome: str = "ok",
    payload: Any = None,
) -> None:
    """Record one audited event: who (`actor`), did what (`action`, e.g. "token.create"), to what, how it
    ended ("ok", "refused", "failed"), with a digest of the payload (never the payload: it may hold secrets)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str) if payload is not None else ""
    event = {
        "at": int(time.time()),
        "actor": actor,
        "action": action,
        "target": target,
        "outcome": outcome,
        "digest": hashlib.sha256(body.encode()).hexdigest() if body else None,
    }
    log.info(json.dumps(event, sort_keys=True))
