"""Backfill and catch-up: `onebar import github|gitlab` reads a repository's history from the REST API.

Each list (pull requests, issues, deployments) is walked newest update first. A run stops at the
high-water mark of the last complete run, so the next one reads only what changed; its first page
is asked for with the ETag seen last, so a run with nothing new costs one 304 per list. Each page
is stored in one transaction together with the link to the next page, so an interrupted run
resumes where it stopped; the high-water mark moves only when a list is walked to its end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select, update

from onebar.codehost import writer
from onebar.codehost.http import EtagCache, HostClient, Page
from onebar.codehost.records import (
    DeploymentRecord,
    IssueRecord,
    PullRecord,
    ReleaseRecord,
    ReviewRecord,
    StatusRecord,
    ts,
)
from onebar.errors import UsageError
from onebar.store import Store
from onebar.store.schema_codehost import codehost_deployments, codehost_repos, import_state

RESOURCES = ("pulls", "issues", "deployments", "releases")


class HostAPI(Protocol):
    host: str
    client: HostClient

    def pulls_path(self, full_name: str) -> tuple[str, dict[str, Any]]: ...
    def parse_pull(self, obj: Any) -> PullRecord: ...
    def pull_details(self, full_name: str, number: int) -> tuple[list[ReviewRecord], int | None, list[str]]: ...
    def deployments_path(self, full_name: str) -> tuple[str, dict[str, Any]]: ...
    def parse_deployment(self, obj: Any) -> tuple[DeploymentRecord, StatusRecord | None]: ...
    def statuses(self, full_name: str, deployment_id: str) -> list[StatusRecord]: ...
    def issues_path(self, full_name: str) -> tuple[str, dict[str, Any]]: ...
    def parse_issue(self, obj: Any) -> IssueRecord | None: ...
    def releases_path(self, full_name: str) -> tuple[str, dict[str, Any]]: ...
    def parse_release(self, obj: Any) -> ReleaseRecord: ...


@dataclass
class ImportSummary:
    host: str
    full_name: str
    repo_name: str
    pulls: int = 0
    reviews: int = 0
    issues: int = 0
    deployments: int = 0
    releases: int = 0
    resumed: list[str] = field(default_factory=list)
    requests: int = 0
    not_modified: int = 0
    rate_limited: int = 0
    retries: int = 0
    synced_repositories: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def validate_full_name(full_name: str, host: str) -> str:
    parts = full_name.strip().strip("/").split("/")
    if len(parts) < 2 or any(not p for p in parts) or (host == "github" and len(parts) != 2):
        shape = "OWNER/REPO" if host == "github" else "GROUP/PROJECT (sub-groups allowed)"
        raise UsageError(f"{full_name!r} is not {shape}", field="full_name")
    return "/".join(parts)


def import_repository(
    store: Store,
    api: HostAPI,
    full_name: str,
    *,
    repo_name: str | None = None,
    workers: int = 4,
    resources: tuple[str, ...] = RESOURCES,
    on_page: Callable[[str, int], None] | None = None,
) -> ImportSummary:
    """Import (or catch up) one host repository into the store; see the module docstring."""
    full_name = validate_full_name(full_name, api.host)
    start = time.perf_counter()
    with store.write() as conn:
        rid = writer.codehost_repo(conn, api.host, full_name, repo_name, api.client.base_url)
        name = conn.execute(select(codehost_repos.c.repo_name).where(codehost_repos.c.id == rid)).scalar_one()
    with store.read() as conn:
        api.client.etags = EtagCache(writer.load_etags(conn, api.client.base_url))
    summary = ImportSummary(api.host, full_name, name)
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="onebar-import") as pool:
        run = _Run(store, api, full_name, rid, summary, workers, on_page, pool)
        if "pulls" in resources:
            run.pulls()
        if "issues" in resources:
            run.issues()
        if "deployments" in resources:
            run.deployments()
        if "releases" in resources:
            run.releases()
    with store.write() as conn:
        summary.synced_repositories = writer.sync_report_tables(conn, rid)
    stats = api.client.stats
    summary.requests, summary.not_modified = stats.requests, stats.not_modified
    summary.rate_limited, summary.retries = stats.rate_limited, stats.retries
    summary.seconds = round(time.perf_counter() - start, 3)
    return summary


@dataclass
class _State:
    high_water: int | None
    resume_url: str | None
    run_high: int | None


@dataclass
class _Prepared:
    """A fetched page: its items newer than the high-water mark, whether the walk ends with it, and
    what `details` fetched for them."""

    page: Page
    items: list[Any]
    done: bool
    extra: Any


class _Run:
    def __init__(
        self,
        store: Store,
        api: HostAPI,
        full_name: str,
        rid: int,
        summary: ImportSummary,
        workers: int,
        on_page: Callable[[str, int], None] | None,
        pool: ThreadPoolExecutor,
    ):
        self.store, self.api, self.full_name, self.rid = store, api, full_name, rid
        self.summary, self.workers, self.on_page, self.pool = summary, max(1, workers), on_page, pool

    # ---- state ----

    def state(self, resource: str) -> _State:
        t = import_state
        with self.store.read() as conn:
            row = conn.execute(
                select(t.c.high_water, t.c.resume_url, t.c.run_high).where(
                    t.c.codehost_repo_id == self.rid, t.c.resource == resource
                )
            ).first()
        return _State(None, None, None) if row is None else _State(row.high_water, row.resume_url, row.run_high)

    def save_state(self, conn: Connection, resource: str, **values: Any) -> None:
        t = import_state
        found = conn.execute(
            select(t.c.resource).where(t.c.codehost_repo_id == self.rid, t.c.resource == resource)
        ).first()
        if found is None:
            conn.execute(insert(t).values(codehost_repo_id=self.rid, resource=resource, **values))
        else:
            conn.execute(update(t).where(t.c.codehost_repo_id == self.rid, t.c.resource == resource).values(**values))

    def walk(
        self,
        resource: str,
        path: str,
        params: dict[str, Any],
        store_page: Callable[[Connection, list[Any], Any], int],
        updated_of: Callable[[Any], int],
        details: Callable[[list[Any]], Any] = lambda items: None,
    ) -> None:
        """Walk a list newest first, each page stored with the link to the next; see the module docstring.

        `details(items)` fetches what a page needs beyond the list (a pull request's reviews and
        commits) before its transaction opens; the next page and its details are fetched while this
        one is stored, so the host and the store work at the same time.
        """
        st = self.state(resource)
        if st.resume_url:
            self.summary.resumed.append(resource)
            first = self.api.client.get(st.resume_url)
        else:
            first = self.api.client.get(path, params, conditional=True)

        def prepare(page: Page) -> _Prepared:
            if page.not_modified:
                return _Prepared(page, [], True, None)
            items = page.data if isinstance(page.data, list) else []
            fresh = [o for o in items if st.high_water is None or updated_of(o) >= st.high_water]
            done = len(fresh) < len(items) or not page.next_url
            return _Prepared(page, fresh, done, details(fresh) if fresh else None)

        def fetch_next(url: str) -> _Prepared:
            return prepare(self.api.client.get(url))

        run_high = st.run_high
        current = prepare(first)
        with ThreadPoolExecutor(1, thread_name_prefix="onebar-prefetch") as ahead:
            while True:
                if current.page.not_modified:
                    return
                following: Future[_Prepared] | None = None
                if not current.done:
                    assert current.page.next_url is not None
                    following = ahead.submit(fetch_next, current.page.next_url)
                if current.items:
                    newest = max(updated_of(o) for o in current.items)
                    run_high = newest if run_high is None else max(run_high, newest)
                with self.store.write() as conn:
                    n = store_page(conn, current.items, current.extra)
                    if current.done:
                        marks = [x for x in (st.high_water, run_high) if x is not None]
                        self.save_state(
                            conn,
                            resource,
                            high_water=max(marks) if marks else None,
                            run_high=None,
                            resume_url=None,
                            finished_at=int(time.time()),
                        )
                    else:
                        self.save_state(conn, resource, run_high=run_high, resume_url=current.page.next_url)
                    writer.save_etags(conn, self.api.client.etags.take_dirty())
                if self.on_page is not None:
                    self.on_page(resource, n)
                if following is None:
                    return
                current = following.result()

    # ---- resources ----

    def pulls(self) -> None:
        path, params = self.api.pulls_path(self.full_name)
        Details = dict[int, tuple[list[ReviewRecord], int | None, list[str]]]

        def fetch(items: list[Any]) -> tuple[list[PullRecord], Details]:
            records = [self.api.parse_pull(o) for o in items]
            return records, self._details([r.number for r in records])

        def store_page(conn: Connection, _items: list[Any], extra: tuple[list[PullRecord], Details] | None) -> int:
            if extra is None:
                return 0
            records, details = extra
            writer.upsert_pulls(conn, self.rid, self.api.host, self.full_name, records, summaries=False)
            all_reviews: list[ReviewRecord] = []
            for r in records:
                all_reviews.extend(details[r.number][0])
            writer.set_first_commits(conn, self.rid, [(r.number, *details[r.number][1:]) for r in records])
            writer.add_reviews(conn, self.rid, all_reviews, summaries=False)
            writer.refresh_summaries(conn, self.rid, [r.number for r in records])
            self.summary.pulls += len(records)
            self.summary.reviews += len(all_reviews)
            return len(records)

        self.walk("pulls", path, params, store_page, lambda o: self.api.parse_pull(o).updated_at, fetch)

    def _details(self, numbers: list[int]) -> dict[int, tuple[list[ReviewRecord], int | None, list[str]]]:
        if self.workers == 1 or len(numbers) < 2:
            return {n: self.api.pull_details(self.full_name, n) for n in numbers}
        results = self.pool.map(lambda n: self.api.pull_details(self.full_name, n), numbers)
        return dict(zip(numbers, results, strict=True))

    def issues(self) -> None:
        path, params = self.api.issues_path(self.full_name)

        def updated(o: Any) -> int:
            return ts(o.get("updated_at")) or 0

        def store_page(conn: Connection, items: list[Any], _extra: Any) -> int:
            records = [r for r in (self.api.parse_issue(o) for o in items) if r is not None]
            writer.upsert_issues(conn, self.rid, records)
            self.summary.issues += len(records)
            return len(records)

        self.walk("issues", path, params, store_page, updated)

    def deployments(self) -> None:
        """Deployments newest first; statuses are read for new ones and those not yet finished."""
        path, params = self.api.deployments_path(self.full_name)
        page: Page | None = self.api.client.get(path, params, conditional=True)
        cd = codehost_deployments
        while page is not None and not page.not_modified:
            parsed = [self.api.parse_deployment(o) for o in page.data or []]
            with self.store.read() as conn:
                known = {
                    row.external_id: row
                    for row in conn.execute(
                        select(cd.c.external_id, cd.c.updated_at, cd.c.succeeded_at, cd.c.failed_at).where(
                            cd.c.codehost_repo_id == self.rid,
                            cd.c.external_id.in_([d.external_id for d, _ in parsed]),
                        )
                    )
                }
            todo = []
            for dep, inline in parsed:
                old = known.get(dep.external_id)
                finished = old is not None and (old.succeeded_at is not None or old.failed_at is not None)
                if old is None or old.updated_at != dep.updated_at or not finished:
                    todo.append((dep, inline))
            statuses = {d.external_id: self.api.statuses(self.full_name, d.external_id) for d, _ in todo}
            with self.store.write() as conn:
                for dep, inline in todo:
                    writer.upsert_deployment(conn, self.rid, dep)
                    for st in sorted([*statuses[dep.external_id], *([inline] if inline else [])], key=lambda s: s.at):
                        writer.add_status(conn, self.rid, st)
                writer.save_etags(conn, self.api.client.etags.take_dirty())
            self.summary.deployments += len(todo)
            if self.on_page is not None:
                self.on_page("deployments", len(todo))
            # Older pages hold only deployments already known and finished once a page had no work.
            page = self.api.client.get(page.next_url) if todo and page.next_url else None

    def releases(self) -> None:
        path, params = self.api.releases_path(self.full_name)
        for page in self.api.client.pages(path, params, conditional=True):
            if page.not_modified:
                return
            records = [self.api.parse_release(o) for o in page.data or []]
            with self.store.write() as conn:
                for r in records:
                    writer.upsert_release(conn, self.rid, r)
                writer.save_etags(conn, self.api.client.etags.take_dirty())
            self.summary.releases += len(records)
