"""GitLab's REST API v4 (gitlab.com or self-managed): the calls onebar makes, as typed records.

Reviews come from a merge request's notes: approvals, unapprovals and change requests are system
notes with a time (the approvals endpoint has none); other notes are comments. Public API for the
access plan: `GitLabAPI.members` (project members with inherited ones, access levels and expiry).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from onebar.codehost.github import Member
from onebar.codehost.http import GITLAB_API, HostAPI
from onebar.codehost.records import (
    DeploymentRecord,
    IssueRecord,
    PullRecord,
    ReleaseRecord,
    ReviewRecord,
    StatusRecord,
    gitlab_deployment,
    gitlab_issue,
    gitlab_merge_request,
    gitlab_note_review,
    gitlab_release,
    ts,
)
from onebar.codehost.refs import coauthor_trailers

PER_PAGE = 100
# GitLab's access levels on onebar's scale (read < triage < write < maintain < admin).
ACCESS_LEVELS = {5: "read", 10: "read", 15: "read", 20: "triage", 30: "write", 40: "maintain", 50: "admin"}


def project(full_name: str) -> str:
    return "projects/" + quote(full_name, safe="")


class GitLabAPI(HostAPI):
    """Typed GitLab REST calls over one `HostClient`."""

    host = "gitlab"
    default_url = GITLAB_API

    def pulls_path(self, full_name: str) -> tuple[str, dict[str, Any]]:
        params = {"state": "all", "order_by": "updated_at", "sort": "desc", "per_page": PER_PAGE}
        return f"{project(full_name)}/merge_requests", params

    def parse_pull(self, obj: Any) -> PullRecord:
        return gitlab_merge_request(obj)

    def pull_details(self, full_name: str, number: int) -> tuple[list[ReviewRecord], int | None, list[str]]:
        base = f"{project(full_name)}/merge_requests/{number}"
        out: list[ReviewRecord] = []
        for page in self.client.pages(f"{base}/notes", {"sort": "asc", "order_by": "created_at", "per_page": PER_PAGE}):
            for obj in page.data or []:
                rec = gitlab_note_review(obj, number)
                if rec is not None:
                    out.append(rec)
        first: int | None = None
        messages: list[str] = []
        for page in self.client.pages(f"{base}/commits", {"per_page": PER_PAGE}):
            for obj in page.data or []:
                at = ts(obj.get("authored_date") or obj.get("created_at"))
                if at is not None and (first is None or at < first):
                    first = at
                messages.append(str(obj.get("message") or ""))
        return out, first, coauthor_trailers(*messages)

    def deployments_path(self, full_name: str) -> tuple[str, dict[str, Any]]:
        params = {"order_by": "updated_at", "sort": "desc", "per_page": PER_PAGE}
        return f"{project(full_name)}/deployments", params

    def parse_deployment(self, obj: Any) -> tuple[DeploymentRecord, StatusRecord | None]:
        return gitlab_deployment(obj)

    def statuses(self, full_name: str, deployment_id: str) -> list[StatusRecord]:
        return []  # a GitLab deployment carries its status

    def issues_path(self, full_name: str) -> tuple[str, dict[str, Any]]:
        params = {"scope": "all", "order_by": "updated_at", "sort": "desc", "per_page": PER_PAGE}
        return f"{project(full_name)}/issues", params

    def parse_issue(self, obj: Any) -> IssueRecord | None:
        return gitlab_issue(obj)

    def releases_path(self, full_name: str) -> tuple[str, dict[str, Any]]:
        return f"{project(full_name)}/releases", {"per_page": PER_PAGE}

    def parse_release(self, obj: Any) -> ReleaseRecord:
        return gitlab_release(obj)

    # ---- access (public: the access plan reuses it) ----

    def members(self, full_name: str, *, inherited: bool = True) -> list[Member]:
        """Project members, with those inherited from parent groups unless told otherwise."""
        path = f"{project(full_name)}/members" + ("/all" if inherited else "")
        out = []
        for page in self.client.pages(path, {"per_page": PER_PAGE}):
            for obj in page.data or []:
                level = int(obj.get("access_level") or 0)
                out.append(
                    Member(
                        login=str(obj.get("username")),
                        access=ACCESS_LEVELS.get(level, "read" if level < 30 else "admin"),
                        role=str(level),
                        kind="Bot" if obj.get("bot") else "User",
                        via="inherited" if inherited and obj.get("membership_state") == "inherited" else "direct",
                        name=obj.get("name"),
                        expires_at=_day(obj.get("expires_at")),
                    )
                )
        return out


def _day(value: Any) -> int | None:
    if not value:
        return None
    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())
