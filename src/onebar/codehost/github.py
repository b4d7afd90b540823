"""GitHub's REST API (github.com or Enterprise Server): the calls onebar makes, as typed records.

Public API for other areas (the access plan reads who may push): `GitHubAPI.collaborators`,
`GitHubAPI.repo_teams` and `GitHubAPI.team_members`, each returning `Member` records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onebar.codehost.http import GITHUB_API, HostAPI
from onebar.codehost.records import (
    DeploymentRecord,
    IssueRecord,
    PullRecord,
    ReleaseRecord,
    ReviewRecord,
    StatusRecord,
    github_deployment,
    github_issue,
    github_pull,
    github_release,
    github_review,
    github_status,
    ts,
)
from onebar.codehost.refs import coauthor_trailers

PER_PAGE = 100


@dataclass(frozen=True)
class Member:
    """Someone with access to a repository, as the host grants it.

    `access` is onebar's scale, the same on both hosts: read < triage < write < maintain < admin.
    `role` is the host's own name (GitHub's role_name, GitLab's access level number as text).
    """

    login: str
    access: str
    role: str
    kind: str = "User"  # User, Bot
    via: str = "direct"  # direct, team:<slug>, inherited
    name: str | None = None
    expires_at: int | None = None


ACCESS_ORDER = ("read", "triage", "write", "maintain", "admin")


def _github_access(role: str | None, permissions: dict[str, Any] | None) -> str:
    role = (role or "").lower()
    if role in ACCESS_ORDER:
        return role
    aliases = {"pull": "read", "push": "write", "maintainer": "maintain"}
    if role in aliases:
        return aliases[role]
    for name in reversed(ACCESS_ORDER):
        key = {"read": "pull", "write": "push"}.get(name, name)
        if permissions and permissions.get(key):
            return name
    return "read"


class GitHubAPI(HostAPI):
    """Typed GitHub REST calls over one `HostClient`."""

    host = "github"
    default_url = GITHUB_API

    # ---- lists the importer walks (newest update first) ----

    def pulls_path(self, full_name: str) -> tuple[str, dict[str, Any]]:
        return f"repos/{full_name}/pulls", {
            "state": "all",
            "sort": "updated",
            "direction": "desc",
            "per_page": PER_PAGE,
        }

    def parse_pull(self, obj: Any) -> PullRecord:
        return github_pull(obj)

    def pull_details(self, full_name: str, number: int) -> tuple[list[ReviewRecord], int | None, list[str]]:
        """Reviews of a pull request, and the author time of its first commit and its co-authors."""
        out: list[ReviewRecord] = []
        for page in self.client.pages(f"repos/{full_name}/pulls/{number}/reviews", {"per_page": PER_PAGE}):
            for obj in page.data or []:
                rec = github_review(obj, number)
                if rec is not None:
                    out.append(rec)
        first: int | None = None
        messages: list[str] = []
        for page in self.client.pages(f"repos/{full_name}/pulls/{number}/commits", {"per_page": PER_PAGE}):
            for obj in page.data or []:
                commit = obj.get("commit") or {}
                at = ts((commit.get("author") or {}).get("date"))
                if at is not None and (first is None or at < first):
                    first = at
                messages.append(str(commit.get("message") or ""))
        return out, first, coauthor_trailers(*messages)

    def deployments_path(self, full_name: str) -> tuple[str, dict[str, Any]]:
        return f"repos/{full_name}/deployments", {"per_page": PER_PAGE}

    def parse_deployment(self, obj: Any) -> tuple[DeploymentRecord, StatusRecord | None]:
        return github_deployment(obj), None

    def statuses(self, full_name: str, deployment_id: str) -> list[StatusRecord]:
        out: list[StatusRecord] = []
        path = f"repos/{full_name}/deployments/{deployment_id}/statuses"
        for page in self.client.pages(path, {"per_page": PER_PAGE}):
            out.extend(github_status(obj, deployment_id) for obj in page.data or [])
        return out

    def issues_path(self, full_name: str) -> tuple[str, dict[str, Any]]:
        return f"repos/{full_name}/issues", {
            "state": "all",
            "sort": "updated",
            "direction": "desc",
            "per_page": PER_PAGE,
        }

    def parse_issue(self, obj: Any) -> IssueRecord | None:
        return None if "pull_request" in obj else github_issue(obj)  # the issues list includes pull requests

    def releases_path(self, full_name: str) -> tuple[str, dict[str, Any]]:
        return f"repos/{full_name}/releases", {"per_page": PER_PAGE}

    def parse_release(self, obj: Any) -> ReleaseRecord:
        return github_release(obj)

    # ---- access (public: the access plan reuses these) ----

    def collaborators(self, full_name: str, affiliation: str = "all") -> list[Member]:
        """Everyone who can reach the repository (direct, through teams, or as organisation members)."""
        out = []
        path = f"repos/{full_name}/collaborators"
        for page in self.client.pages(path, {"affiliation": affiliation, "per_page": PER_PAGE}):
            for obj in page.data or []:
                out.append(
                    Member(
                        login=str(obj.get("login")),
                        access=_github_access(obj.get("role_name"), obj.get("permissions")),
                        role=str(obj.get("role_name") or ""),
                        kind=str(obj.get("type") or "User"),
                    )
                )
        return out

    def repo_teams(self, full_name: str) -> list[tuple[str, str]]:
        """(team slug, access) of each team with access to the repository."""
        out = []
        for page in self.client.pages(f"repos/{full_name}/teams", {"per_page": PER_PAGE}):
            for obj in page.data or []:
                out.append((str(obj.get("slug")), _github_access(obj.get("permission"), obj.get("permissions"))))
        return out

    def team_members(self, org: str, team_slug: str, access: str = "read") -> list[Member]:
        out = []
        for page in self.client.pages(f"orgs/{org}/teams/{team_slug}/members", {"per_page": PER_PAGE}):
            for obj in page.data or []:
                out.append(
                    Member(
                        login=str(obj.get("login")),
                        access=access,
                        role="",
                        kind=str(obj.get("type") or "User"),
                        via=f"team:{team_slug}",
                    )
                )
        return out
