"""Roles, principals and the one access matrix: which role may call which endpoint, and how.

The matrix is data: the service checks every request against it, docs/service.md shows it, and a
test calls every endpoint with every role and expects exactly what it says.

    full    the whole resource
    scoped  the resource filtered by the visibility policy (onebar.auth.visibility)
    own     only for the repository the token is bound to (ci)
    deny    403
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from onebar.errors import PermissionDeniedError, UsageError


class Role(StrEnum):
    ADMIN = "admin"
    AUDITOR = "auditor"
    LEAD = "lead"
    MEMBER = "member"
    CI = "ci"


ROLES: tuple[Role, ...] = tuple(Role)


class Access(StrEnum):
    FULL = "full"
    SCOPED = "scoped"
    OWN = "own"
    DENY = "deny"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's role and scope (an organisation, a repository, a person)."""

    token_id: int
    role: Role
    org: str | None = None
    repo: str | None = None
    person: str | None = None
    via: str = "token"  # or "session"

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        scope = self.org or self.repo or ""
        return f"token:{self.token_id}:{self.role}" + (f"@{scope}" if scope else "")

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.ADMIN, Role.AUDITOR)


@dataclass(frozen=True)
class Endpoint:
    """One row of the matrix: an action id, the HTTP method and path, and each role's access."""

    action: str
    method: str
    path: str
    access: dict[Role, Access]
    summary: str


F, S, O, D = Access.FULL, Access.SCOPED, Access.OWN, Access.DENY  # noqa: E741


def _row(action: str, method: str, path: str, summary: str, admin: Access, auditor: Access, lead: Access,
         member: Access, ci: Access) -> Endpoint:  # fmt: skip
    access = {Role.ADMIN: admin, Role.AUDITOR: auditor, Role.LEAD: lead, Role.MEMBER: member, Role.CI: ci}
    return Endpoint(action, method, path, access, summary)


# The matrix. Readers (admin, auditor, lead, member) see repositories and their figures, leads and
# members filtered by employer; ci writes events for its own repository and reads nothing.
MATRIX: tuple[Endpoint, ...] = (
    _row("whoami", "GET", "/api/v1/whoami", "the caller's role and scope", F, F, F, F, F),
    _row("repos.list", "GET", "/api/v1/repos", "repositories the service owns", F, F, F, F, D),
    _row("repos.add", "POST", "/api/v1/repos", "add a repository (path or clone URL)", F, D, D, D, D),
    _row("repos.get", "GET", "/api/v1/repos/{name}", "one repository and its ingest state", F, F, F, F, D),
    _row("repos.sync", "POST", "/api/v1/repos/{name}/sync", "fetch and ingest now (after a push)", F, D, D, D, O),
    _row("report.get", "GET", "/api/v1/repos/{name}/report", "the report JSON contract", F, F, S, S, D),
    _row("people.list", "GET", "/api/v1/repos/{name}/people", "people of the charter", F, F, S, S, D),
    _row("components.list", "GET", "/api/v1/repos/{name}/components", "components, RACI, knowledge", F, F, S, S, D),
    _row("orgs.list", "GET", "/api/v1/organisations", "organisations across repositories", F, F, S, S, D),
    _row("portfolio.get", "GET", "/api/v1/portfolio", "DORA per organisation across repositories", F, F, S, S, D),
    _row("deployments.list", "GET", "/api/v1/repos/{name}/deployments", "recorded deployments", F, F, F, F, D),
    _row("deployments.add", "POST", "/api/v1/repos/{name}/deployments", "record a deployment", F, D, D, D, O),
    _row("incidents.list", "GET", "/api/v1/repos/{name}/incidents", "recorded incidents", F, F, F, F, D),
    _row("incidents.add", "POST", "/api/v1/repos/{name}/incidents", "record an incident", F, D, D, D, O),
    _row("gate_runs.list", "GET", "/api/v1/repos/{name}/gate-runs", "gate verdicts of a repository", F, F, S, S, D),
    _row("gate_runs.add", "POST", "/api/v1/repos/{name}/gate-runs", "post a gate verdict from CI", F, D, D, D, O),
    _row("gate_runs.search", "GET", "/api/v1/gate-runs", "gate verdicts by organisation or rule", F, F, S, S, D),
    _row("jobs.list", "GET", "/api/v1/jobs", "the job queue", F, F, D, D, D),
    _row("jobs.get", "GET", "/api/v1/jobs/{job_id}", "one job", F, F, D, D, D),
    _row("jobs.add", "POST", "/api/v1/jobs", "queue a job (ingest, refresh, fetch, sweep)", F, D, D, D, D),
    _row("tokens.list", "GET", "/api/v1/tokens", "API tokens (never their secrets)", F, F, D, D, D),
    _row("tokens.add", "POST", "/api/v1/tokens", "create a token (shown once)", F, D, D, D, D),
    _row("tokens.revoke", "DELETE", "/api/v1/tokens/{id}", "revoke a token", F, D, D, D, D),
    _row("metrics", "GET", "/metrics", "Prometheus metrics", F, F, D, D, D),
    _row("hooks.deployments", "POST", "/hooks/deployments", "report a deployment from any CI", F, D, D, D, O),
    _row("deliveries.list", "GET", "/api/v1/deliveries", "stored webhook deliveries", F, F, D, D, D),
)

# The dashboard's pages (onebar.server.pages, docs/dashboard.md): HTML views of the rows above, under the
# same rules; an API client calling them gets the same 401 and 403 problem documents.
PAGES: tuple[Endpoint, ...] = (
    _row("page.portfolio", "GET", "/", "organisations × DORA keys", F, F, S, S, D),
    _row("page.org", "GET", "/orgs/{org}", "one organisation across repositories", F, F, S, S, D),
    _row("page.repo", "GET", "/repos/{name}", "a repository's report", F, F, S, S, D),
    _row("page.component", "GET", "/repos/{name}/components/{component}", "owners, knowledge risk", F, F, S, S, D),
    _row("page.person", "GET", "/repos/{name}/people/{person}", "a person's own figures", F, F, S, S, D),
    _row("page.onboard", "GET", "/repos/{name}/people/{person}/onboarding", "a first-week brief", F, F, S, S, D),
    _row("page.me", "GET", "/me", "the caller's token and own pages", F, F, F, F, D),
    _row("page.gate_runs", "GET", "/gate-runs", "gate verdicts", F, F, S, S, D),
    _row("page.jobs", "GET", "/jobs", "the job queue", F, F, D, D, D),
    _row("page.jobs.add", "POST", "/jobs", "queue a job", F, D, D, D, D),
    _row("page.access", "GET", "/access", "grants, requests and approvals", F, F, S, S, D),
    _row("page.access.request", "POST", "/access/requests", "request access for a person", F, D, S, S, D),
    _row("page.access.approve", "POST", "/access/{grant}/approve", "approve a grant (its approver)", D, D, S, D, D),
    _row("page.access.revoke", "POST", "/access/{grant}/revoke", "revoke a grant", F, D, S, S, D),
)

BY_ACTION: dict[str, Endpoint] = {e.action: e for e in (*MATRIX, *PAGES)}


def register(endpoint: Endpoint) -> None:
    """Add a row for an endpoint defined outside this module (a pluggable router), once."""
    if endpoint.action in BY_ACTION:
        raise ValueError(f"action {endpoint.action!r} is already in the access matrix")
    BY_ACTION[endpoint.action] = endpoint


def authorize(principal: Principal, action: str, repo: str | None = None) -> Access:
    """The caller's access to `action` (on `repo`); PermissionDeniedError when the matrix says deny."""
    endpoint = BY_ACTION[action]
    access = endpoint.access[principal.role]
    if access is Access.DENY:
        raise PermissionDeniedError(
            f"the {principal.role} role may not call {endpoint.method} {endpoint.path} ({endpoint.summary})"
        )
    if access is Access.OWN and (repo is None or principal.repo != repo):
        raise PermissionDeniedError(
            f"this ci token is bound to repository {principal.repo!r}, not {repo!r}", field="name"
        )
    return access


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise UsageError(f"{value!r} is not a role; use one of {', '.join(ROLES)}", field="role") from None
