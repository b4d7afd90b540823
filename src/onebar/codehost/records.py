"""Typed records of what a code host tells, and the parsers from GitHub's and GitLab's JSON.

The REST API and the webhooks describe a pull request, a review or a deployment with the same
objects on GitHub; GitLab's webhooks differ from its REST API, so each has its own parser. Every
parser takes plain JSON and returns a record or raises `ValueError` naming the missing field; the
writer (`onebar.codehost.writer`) stores records, whatever their source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from onebar.codehost.refs import TrackerRef

BODY_LIMIT = 16 * 1024
_SPACED_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?) ?([+-]\d{2}):?(\d{2})$")


def ts(value: Any) -> int | None:
    """An ISO 8601 time (GitHub's '2024-05-01T12:00:00Z', GitLab's '2024-05-01T12:00:00.000+02:00') as Unix seconds."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time")
    text = value.strip().replace("Z", "+00:00")
    if text.endswith(" UTC"):  # GitLab's webhooks: "2024-05-01 12:00:00 UTC"
        text = text[:-4].replace(" ", "T") + "+00:00"
    m = _SPACED_OFFSET.match(text)
    if m:  # GitLab's deployment hook: "2021-04-28 21:50:00 +0200"
        text = f"{m.group(1)}T{m.group(2)}{m.group(3)}:{m.group(4)}"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def req(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]..., or ValueError naming the dotted field that is missing."""
    cur = obj
    for i, key in enumerate(path):
        if not isinstance(cur, dict) or cur.get(key) is None:
            raise ValueError(f"missing field {'.'.join(path[: i + 1])}")
        cur = cur[key]
    return cur


def opt(obj: Any, *path: str) -> Any:
    cur = obj
    for key in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


@dataclass
class PullRecord:
    number: int
    opened_at: int
    updated_at: int
    title: str = ""
    author: str = ""
    author_type: str = "User"
    author_association: str | None = None
    state: str = "open"  # open, closed, merged
    draft: bool = False
    merged_at: int | None = None
    closed_at: int | None = None
    merge_sha: str | None = None
    head_sha: str | None = None
    head_ref: str | None = None
    base_ref: str | None = None
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = None
    commits: int | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    body: str = ""
    first_commit_at: int | None = None
    # A draft transition seen by a webhook: ("draft", at) or ("ready", at).
    transition: tuple[str, int] | None = None
    # Its tracker references, when worked out before the write (the webhook processor does it outside
    # the write transaction); None: the writer works them out.
    refs: list[TrackerRef] | None = None


@dataclass(frozen=True)
class ReviewRecord:
    pr_number: int
    external_id: str
    reviewer: str
    state: str  # approved, changes_requested, commented, dismissed
    submitted_at: int
    reviewer_type: str = "User"
    commit_sha: str | None = None


@dataclass(frozen=True)
class DeploymentRecord:
    external_id: str
    created_at: int
    updated_at: int
    sha: str | None
    ref: str = ""
    environment: str = "production"
    creator: str | None = None


@dataclass(frozen=True)
class StatusRecord:
    deployment_id: str
    state: str  # success, failure, error, pending, in_progress, queued, inactive, ...
    at: int


@dataclass(frozen=True)
class IssueRecord:
    number: int
    created_at: int
    updated_at: int
    title: str = ""
    author: str = ""
    state: str = "open"
    issue_type: str = "issue"
    labels: tuple[str, ...] = ()
    closed_at: int | None = None
    body: str = ""


@dataclass(frozen=True)
class RunRecord:
    external_id: str
    name: str
    status: str
    head_sha: str | None = None
    branch: str | None = None
    started_at: int | None = None
    finished_at: int | None = None


@dataclass(frozen=True)
class ReleaseRecord:
    tag: str
    name: str = ""
    published_at: int | None = None


def _login(user: Any) -> tuple[str, str]:
    """(login, account type) of a GitHub user object; a missing user is a 'ghost'."""
    if not isinstance(user, dict):
        return "ghost", "User"
    return str(user.get("login") or "ghost"), str(user.get("type") or "User")


# ---- GitHub (REST and webhooks share these objects) ----


def github_pull(obj: Any) -> PullRecord:
    number = int(req(obj, "number"))
    login, kind = _login(obj.get("user"))
    merged_at = ts(obj.get("merged_at"))
    closed_at = ts(obj.get("closed_at"))
    return PullRecord(
        number=number,
        opened_at=ts(req(obj, "created_at")) or 0,
        updated_at=ts(obj.get("updated_at")) or ts(obj["created_at"]) or 0,
        title=str(obj.get("title") or ""),
        author=login,
        author_type=kind,
        author_association=obj.get("author_association"),
        state="merged" if merged_at else ("closed" if obj.get("state") == "closed" else "open"),
        draft=bool(obj.get("draft")),
        merged_at=merged_at,
        closed_at=closed_at,
        merge_sha=obj.get("merge_commit_sha") if merged_at else None,
        head_sha=opt(obj, "head", "sha"),
        head_ref=opt(obj, "head", "ref"),
        base_ref=opt(obj, "base", "ref"),
        additions=obj.get("additions"),
        deletions=obj.get("deletions"),
        changed_files=obj.get("changed_files"),
        commits=obj.get("commits"),
        labels=[str(lb.get("name", "")) for lb in obj.get("labels") or [] if isinstance(lb, dict)],
        assignees=[_login(a)[0] for a in obj.get("assignees") or []],
        body=str(obj.get("body") or "")[:BODY_LIMIT],
    )


GITHUB_REVIEW_STATES = {
    "approved": "approved",
    "changes_requested": "changes_requested",
    "commented": "commented",
    "dismissed": "dismissed",
}


def github_review(obj: Any, pr_number: int) -> ReviewRecord | None:
    """A submitted review; a pending (unsubmitted) one is None."""
    state = str(req(obj, "state")).lower()
    if state not in GITHUB_REVIEW_STATES or obj.get("submitted_at") is None:
        return None
    login, kind = _login(obj.get("user"))
    return ReviewRecord(
        pr_number=pr_number,
        external_id=str(req(obj, "id")),
        reviewer=login,
        reviewer_type=kind,
        state=GITHUB_REVIEW_STATES[state],
        submitted_at=ts(obj["submitted_at"]) or 0,
        commit_sha=obj.get("commit_id"),
    )


def github_deployment(obj: Any) -> DeploymentRecord:
    created = ts(req(obj, "created_at")) or 0
    return DeploymentRecord(
        external_id=str(req(obj, "id")),
        created_at=created,
        updated_at=ts(obj.get("updated_at")) or created,
        sha=obj.get("sha"),
        ref=str(obj.get("ref") or ""),
        environment=str(obj.get("environment") or "production"),
        creator=_login(obj.get("creator"))[0] if obj.get("creator") else None,
    )


def github_status(obj: Any, deployment_id: str) -> StatusRecord:
    return StatusRecord(deployment_id, str(req(obj, "state")).lower(), ts(req(obj, "created_at")) or 0)


def github_issue(obj: Any) -> IssueRecord:
    created = ts(req(obj, "created_at")) or 0
    return IssueRecord(
        number=int(req(obj, "number")),
        created_at=created,
        updated_at=ts(obj.get("updated_at")) or created,
        title=str(obj.get("title") or ""),
        author=_login(obj.get("user"))[0],
        state="closed" if obj.get("state") == "closed" else "open",
        labels=tuple(str(lb.get("name", "")).lower() for lb in obj.get("labels") or [] if isinstance(lb, dict)),
        closed_at=ts(obj.get("closed_at")),
        body=str(obj.get("body") or "")[:BODY_LIMIT],
    )


def github_run(obj: Any) -> RunRecord:
    return RunRecord(
        external_id=str(req(obj, "id")),
        name=str(obj.get("name") or ""),
        status=str(obj.get("conclusion") or obj.get("status") or "unknown"),
        head_sha=obj.get("head_sha"),
        branch=obj.get("head_branch"),
        started_at=ts(obj.get("run_started_at") or obj.get("created_at")),
        finished_at=ts(obj.get("updated_at")) if obj.get("conclusion") else None,
    )


def github_release(obj: Any) -> ReleaseRecord:
    return ReleaseRecord(str(req(obj, "tag_name")), str(obj.get("name") or ""), ts(obj.get("published_at")))


# ---- GitLab REST ----


def _gl_user(user: Any) -> tuple[str, str]:
    if not isinstance(user, dict):
        return "ghost", "User"
    name = str(user.get("username") or "ghost")
    return name, "Bot" if user.get("bot") or name.endswith("-bot") or "_bot_" in name else "User"


GITLAB_STATES = {"opened": "open", "reopened": "open", "closed": "closed", "merged": "merged", "locked": "open"}


def gitlab_merge_request(obj: Any) -> PullRecord:
    login, kind = _gl_user(obj.get("author"))
    merged_at = ts(obj.get("merged_at"))
    state = GITLAB_STATES.get(str(obj.get("state")), "open")
    return PullRecord(
        number=int(req(obj, "iid")),
        opened_at=ts(req(obj, "created_at")) or 0,
        updated_at=ts(obj.get("updated_at")) or ts(obj["created_at"]) or 0,
        title=str(obj.get("title") or ""),
        author=login,
        author_type=kind,
        state="merged" if merged_at or state == "merged" else state,
        draft=bool(obj.get("draft") or obj.get("work_in_progress")),
        merged_at=merged_at,
        closed_at=ts(obj.get("closed_at")),
        merge_sha=obj.get("merge_commit_sha") or obj.get("squash_commit_sha"),
        head_sha=obj.get("sha"),
        head_ref=obj.get("source_branch"),
        base_ref=obj.get("target_branch"),
        labels=[
            str(x) if not isinstance(x, dict) else str(x.get("title") or x.get("name")) for x in obj.get("labels") or []
        ],
        assignees=[_gl_user(a)[0] for a in obj.get("assignees") or []],
        body=str(obj.get("description") or "")[:BODY_LIMIT],
    )


def gitlab_deployment(obj: Any) -> tuple[DeploymentRecord, StatusRecord]:
    created = ts(req(obj, "created_at")) or 0
    updated = ts(obj.get("updated_at")) or created
    dep = DeploymentRecord(
        external_id=str(req(obj, "id")),
        created_at=created,
        updated_at=updated,
        sha=obj.get("sha"),
        ref=str(obj.get("ref") or ""),
        environment=str(opt(obj, "environment", "name") or "production"),
        creator=_gl_user(obj.get("user"))[0] if obj.get("user") else None,
    )
    state = {"success": "success", "failed": "failure", "canceled": "inactive"}.get(
        str(obj.get("status")), str(obj.get("status") or "pending")
    )
    at = ts(obj.get("finished_at")) or updated
    return dep, StatusRecord(dep.external_id, state, at)


def gitlab_issue(obj: Any) -> IssueRecord:
    created = ts(req(obj, "created_at")) or 0
    return IssueRecord(
        number=int(req(obj, "iid")),
        created_at=created,
        updated_at=ts(obj.get("updated_at")) or created,
        title=str(obj.get("title") or ""),
        author=_gl_user(obj.get("author"))[0],
        state="closed" if obj.get("state") == "closed" else "open",
        issue_type=str(obj.get("issue_type") or obj.get("type") or "issue").lower(),
        labels=tuple(str(x).lower() for x in obj.get("labels") or [] if not isinstance(x, dict)),
        closed_at=ts(obj.get("closed_at")),
        body=str(obj.get("description") or "")[:BODY_LIMIT],
    )


def gitlab_release(obj: Any) -> ReleaseRecord:
    return ReleaseRecord(str(req(obj, "tag_name")), str(obj.get("name") or ""), ts(obj.get("released_at")))


def gitlab_note_review(obj: Any, mr_iid: int) -> ReviewRecord | None:
    """A review from a merge request note: approvals and change requests are system notes."""
    body = str(obj.get("body") or "").strip().lower()
    if obj.get("system"):
        if body.startswith("approved this merge request"):
            state = "approved"
        elif body.startswith("requested changes"):
            state = "changes_requested"
        elif body.startswith("unapproved this merge request"):
            state = "dismissed"
        else:
            return None
    else:
        state = "commented"
    login, kind = _gl_user(obj.get("author"))
    return ReviewRecord(
        pr_number=mr_iid,
        external_id=f"note-{req(obj, 'id')}",
        reviewer=login,
        reviewer_type=kind,
        state=state,
        submitted_at=ts(req(obj, "created_at")) or 0,
    )
