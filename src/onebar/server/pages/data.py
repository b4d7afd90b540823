"""What pages read: a repository's materialised report as one caller may see it, cached per (report, scope).

No page opens git or computes a metric: like the API, it reads the stored report, filters it with
`onebar.auth.visibility`, and keeps the filtered copy in the service's view cache until the report
changes (its ETag) — so a page costs one small query and a template render once warm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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

    @property
    def window(self) -> dict[str, Any]:
        return dict(self.report["window"])

    def summary(self) -> dict[str, Any]:
        """The DORA summary the portfolio adds up (as `materialised` stores it), of what the caller sees."""
        d = self.report["dora"]
        return {"overall": d["overall"], "by_org": d["by_org"], "organisations": self.report["organisations"]}

    def direction(self, org: str | None) -> dict[str, Any]:
        """Where the repository's (None) or an organisation's keys are heading, as the report's trend says."""
        trend = self.report["dora"]["trend"]
        entry = trend["overall"] if org is None else trend["by_org"].get(org)
        return dict(entry["direction"]) if entry else {}


@dataclass(frozen=True)
class Digest:
    """What the portfolio reads of one repository's report: its DORA summary and trend directions.

    Built once per report (its ETag) for everyone, then filtered for each caller with the API's own
    `visibility.filter_summary` and `sees_org`, so the portfolio never copies whole reports.
    """

    name: str
    label: str
    etag: str
    computed_at: int
    window: dict[str, Any]
    totals: dict[str, Any]  # {"overall", "by_org", "organisations"}
    directions: dict[str, dict[str, Any]]  # "" (the repository) or an organisation -> key -> direction

    def summary(self) -> dict[str, Any]:
        return self.totals

    def direction(self, org: str | None) -> dict[str, Any]:
        return self.directions.get(org or "", {})

    def seen_by(self, principal: Principal) -> Digest:
        shown = visibility.filter_summary(self.totals, principal)
        directions = {o: d for o, d in self.directions.items() if not o or visibility.sees_org(principal, o)}
        return replace(self, totals=shown, directions=directions)


def digests(service: Service, principal: Principal) -> tuple[list[Digest], list[ServiceRepo]]:
    """Every reported repository's digest as the caller may see it, and those not reported yet."""
    store = service.store
    heads = {h.repo: h for h in materialised.headers(store)}
    done, waiting = [], []
    for repo in list_repos(store):
        head = heads.get(repo.name)
        if head is None:
            waiting.append(repo)
            continue

        def make(name: str = repo.name, head: materialised.Header = head) -> Digest | None:
            row = materialised.read(store, name)
            if row is None or row.header.etag != head.etag:
                return None
            data = service.report_body(name, materialised.DEFAULT, head.etag, lambda: row.body) or {}
            trend = data["dora"]["trend"]
            directions = {"": trend["overall"]["direction"]} | {o: t["direction"] for o, t in trend["by_org"].items()}
            totals = {"overall": data["dora"]["overall"], "by_org": data["dora"]["by_org"],
                      "organisations": data["organisations"]}  # fmt: skip
            return Digest(name, str(data["repository"]["name"]), head.etag, row.header.computed_at, data["window"],
                          totals, directions)  # fmt: skip

        found: Digest | None = service.views.get(("page-digest", repo.name, head.etag), make)
        if found is None:
            waiting.append(repo)
        else:
            done.append(found.seen_by(principal))
    return done, waiting


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
