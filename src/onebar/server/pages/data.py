"""What pages read: a repository's materialised report as one caller may see it, cached per (report, scope).

No page opens git or computes a metric: like the API, it reads the stored report, filters it with
`onebar.auth.visibility`, and keeps the filtered copy in the service's view cache until the report
changes (its ETag) — so a page costs one small query and a template render once warm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onebar.auth import visibility
from onebar.auth.roles import Principal
from onebar.charter.model import Charter
from onebar.errors import ConflictError
from onebar.repos import materialised
from onebar.repos.registry import ServiceRepo, get_repo, list_repos
from onebar.server.service import Service


@dataclass(frozen=True)
class RepoView:
    """One repository's default-window report, filtered for one caller (never mutate `report`)."""

    name: str  # the service's name of the repository
    label: str  # the repository's own name (its directory), as grants and the CLI name it
    etag: str
    computed_at: int
    report: dict[str, Any]
    charter: Charter
    scope: visibility.Scope

    def org_name(self, org: str) -> str:
        info = self.report["organisations"].get(org)
        if info is not None:
            return str(info["name"])
        known = self.charter.organisations.get(org)
        return known.name if known is not None and known.name else org

    def person_org(self, person: str) -> str | None:
        return self.scope.people.get(person)

    def person_name(self, person: str) -> str:
        p = self.charter.people.get(person)
        return p.name if p is not None else person


def repo_view(service: Service, principal: Principal, name: str, head: materialised.Header | None = None) -> RepoView:
    """The report of repository `name` as `principal` may see it; 404 unknown, 409 not reported yet.

    `head` is its current header when the caller already read it (one query for many repositories).
    """
    store = service.store
    head = head or materialised.header(store, name)
    if head is None:
        get_repo(store, name)  # 404 for an unknown repository
        raise ConflictError(
            f"repository {name!r} has no report yet: its first ingest has not finished",
            hint="the Jobs page shows its progress",
        )
    etag = head.etag
    key = ("page-report", name, etag, visibility.key_of(principal))

    def make() -> RepoView | None:
        row = materialised.read(store, name)
        if row is None or row.header.etag != etag:
            return None  # it changed while we looked: the next request reads the new one
        data = service.report_body(name, materialised.DEFAULT, etag, lambda: row.body) or {}
        charter: Charter = service.views.get(
            ("page-charter", etag), lambda: Charter.model_validate(row.meta["charter"])
        )
        shown = visibility.filter_report(data, principal, row.scope)
        return RepoView(name, str(data["repository"]["name"]), etag, row.header.computed_at, shown, charter, row.scope)

    view: RepoView | None = service.views.get(key, make)
    if view is None:
        raise ConflictError(f"the report of {name!r} changed while it was read; reload the page")
    return view


def reported(service: Service, principal: Principal) -> tuple[list[RepoView], list[ServiceRepo]]:
    """Every repository with a report (as the caller sees it), and those still waiting for their first."""
    done, waiting = [], []
    heads = {h.repo: h for h in materialised.headers(service.store)}
    for repo in list_repos(service.store):
        if repo.name in heads:
            try:
                done.append(repo_view(service, principal, repo.name, heads[repo.name]))
            except ConflictError:
                waiting.append(repo)
        else:
            waiting.append(repo)
    return done, waiting
