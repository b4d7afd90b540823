"""The generic deployment hook: any CI or deploy tool reports a deployment of one repository.

`POST /hooks/deployments` (the service, with a `ci` token of the repository) hands the raw body to
`receive_deployment`, which validates it at once (a bad one is a 4xx naming the field, and nothing
is stored) and stores it as a delivery of the repository's `ci` hook (created on first use; a `ci`
hook has no secret: the token authenticated the caller). Processing is the same job as the code
hosts' deliveries: `onebar.codehost.events` turns it into a host deployment with its status, which
feeds the report's `deployments` (source `ci`) and the flow sections' change failure rate.

The delivery id is the `Idempotency-Key` header, else the body's `id`, else the SHA-256 of the body,
so a retried report of the same deployment is stored once.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, insert, select

from onebar.codehost.hooks import AfterStore, PayloadTooLarge, Receipt, UnsupportedMediaType, store_delivery
from onebar.errors import UsageError
from onebar.store import Store
from onebar.store.schema_codehost import hooks

MAX_BODY = 64 * 1024  # a deployment report is a few hundred bytes
EVENT = "deployment"


class DeploymentEvent(BaseModel):
    """What a deploy tool tells: which commit of which repository reached which environment, and how it went."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    repo: str | None = Field(None, min_length=1, max_length=200, description="default: the ci token's repository")
    id: str | None = Field(None, min_length=1, max_length=200, description="the deploy tool's id of the deployment")
    sha: str = Field(pattern=r"^[0-9a-fA-F]{7,64}$", description="the deployed commit")
    ref: str = Field("", max_length=500, description="the deployed tag or branch")
    environment: str = Field("production", min_length=1, max_length=200)
    status: Literal["success", "failure", "error", "in_progress", "queued", "pending", "inactive"] = "success"
    at: datetime | None = Field(None, description="when the status was reached (ISO 8601); default: on receipt")
    url: str | None = Field(None, max_length=2000, description="where the deployment can be seen")
    group: str | None = Field(
        None, max_length=200, description="one deployment across repositories: the same group in each repository"
    )
    creator: str | None = Field(None, max_length=200)

    def timestamp(self, default: int) -> int:
        if self.at is None:
            return default
        at = self.at if self.at.tzinfo is not None else self.at.replace(tzinfo=UTC)
        return int(at.timestamp())


def parse_deployment(body: bytes) -> DeploymentEvent:
    """The validated event of a body; a UsageError naming the first field at fault otherwise."""
    try:
        return DeploymentEvent.model_validate_json(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        if err["type"] == "json_invalid":
            raise UsageError(f"the body is not JSON: {err['msg']}", field="body") from None
        if err["type"] == "model_type":
            raise UsageError("the body is not a JSON object", field="body") from None
        if err["type"] == "extra_forbidden":
            known = ", ".join(DeploymentEvent.model_fields)
            raise UsageError(f"{where!r} is not a field of a deployment; use {known}", field=where) from None
        raise UsageError(f"{where}: {err['msg']}", field=where) from None


def receive_deployment(
    store: Store,
    body: bytes,
    *,
    content_type: str | None,
    default_repo: str | None = None,
    check: Callable[[str], None] | None = None,
    key: str | None = None,
    after: AfterStore | None = None,
    now: int | None = None,
) -> tuple[Receipt, DeploymentEvent]:
    """Validate and store one deployment report; 4xx errors store nothing.

    The repository is the body's `repo`, else `default_repo` (a ci token's); `check(repo)` may
    refuse it (the caller's access) before anything is stored.
    """
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type {ctype or '(none)'} is not accepted: send application/json", field="content-type"
        )
    if len(body) > MAX_BODY:
        raise PayloadTooLarge(f"the body is {len(body)} bytes, over the {MAX_BODY} byte limit", field="body")
    event = parse_deployment(body)
    if key is not None and not 0 < len(key) <= 200:
        raise UsageError("the Idempotency-Key is empty or longer than 200 characters", field="Idempotency-Key")
    if event.at is not None and event.timestamp(0) > (now or int(time.time())) + 3600:
        raise UsageError("the deployment time is in the future", field="at")
    repo_name = event.repo or default_repo
    if not repo_name:
        raise UsageError("name the repository the deployment is of", field="repo")
    if check is not None:
        check(repo_name)
    delivery_id = key or (f"id:{event.id}" if event.id else "sha256:" + hashlib.sha256(body).hexdigest())
    with store.write() as conn:
        hook_id = ci_hook(conn, repo_name, now)
        receipt = store_delivery(conn, hook_id, delivery_id, EVENT, body, now or int(time.time()), after)
    return receipt, event


def ci_hook(conn: Connection, repo_name: str, now: int | None = None) -> int:
    """The id of the repository's `ci` hook, created on first use (it holds no secret)."""
    found = conn.execute(select(hooks.c.id).where(hooks.c.host == "ci", hooks.c.repo_name == repo_name)).scalar()
    if found is not None:
        return int(found)
    new = conn.execute(
        insert(hooks).values(
            host="ci", repo_name=repo_name, secret=b"", created_at=now or int(time.time()), active=True, rejected=0
        )
    )
    return int(new.inserted_primary_key[0])  # type: ignore[index]
