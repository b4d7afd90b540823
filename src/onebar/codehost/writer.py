"""Storing code-host records, whatever their source (import or webhook), inside the caller's transaction.

Every function takes an open write connection, so a batch of pull requests with their reviews and
links is stored whole or not at all. Writes are upserts keyed by the host's own ids: an import that
overlaps a webhook, a redelivery or a replay stores each thing once.

Out-of-order events: reviews are keyed by (host repository, pull number, review id), not by a
foreign key, so a review that arrives before its pull request is kept; `refresh_summaries` derives
first review and approval from the stored reviews whenever either side arrives.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from onebar.codehost.records import (
    DeploymentRecord,
    IssueRecord,
    PullRecord,
    ReleaseRecord,
    ReviewRecord,
    RunRecord,
    StatusRecord,
)
from onebar.codehost.refs import incident_cause, tracker_refs
from onebar.store.db import driver_sql
from onebar.store.schema import deployments, incidents, repositories
from onebar.store.schema_codehost import (
    ci_runs,
    codehost_deployments,
    codehost_repos,
    http_etags,
    pull_requests,
    releases,
    reviews,
    tracker_issues,
    tracker_links,
)

SUCCESS = {"success"}
FAILURE = {"failure", "error"}
INCIDENT_LABELS = ("incident",)

# The statements a webhook batch or an import page runs for pull requests, reviews and their links
# are written as driver SQL (`onebar.store.db.driver_sql`: `{p}` a placeholder, `{ins}` a list of them).


def _columns(table: Any) -> str:
    return ", ".join(c.name for c in table.c)


def _insert_sql(table: Any, names: tuple[str, ...]) -> str:
    return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(['{p}'] * len(names))})"


def _insert_many(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """`insert(table), rows` as driver SQL: the columns a row leaves out get their scalar defaults."""
    defaults = _DEFAULTS.get(table.name)
    if defaults is None:
        defaults = _DEFAULTS[table.name] = {
            c.name: c.default.arg for c in table.c if c.default is not None and c.default.is_scalar
        }
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        full = {**{k: v for k, v in defaults.items() if k not in row}, **row}
        names = tuple(full)
        groups.setdefault(names, []).append(tuple(full.values()))
    for names, params in groups.items():
        conn.exec_driver_sql(driver_sql(conn, _insert_sql(table, names)), params)


_DEFAULTS: dict[str, dict[str, Any]] = {}


def codehost_repo(
    conn: Connection, host: str, full_name: str, repo_name: str | None = None, api_url: str | None = None
) -> int:
    """The id of a host repository, created on first sight; `repo_name` defaults to its last path part."""
    t = codehost_repos
    row = conn.exec_driver_sql(driver_sql(conn, _REPO), (host, full_name)).first()
    if row is not None:
        if repo_name and row.repo_name != repo_name:
            conn.exec_driver_sql(driver_sql(conn, _REPO_NAME), (repo_name, row.id))
        return int(row.id)
    name = repo_name or full_name.rsplit("/", 1)[-1]
    new = conn.execute(insert(t).values(host=host, full_name=full_name, repo_name=name, api_url=api_url))
    return int(new.inserted_primary_key[0])  # type: ignore[index]


_REPO = "SELECT id, repo_name FROM codehost_repos WHERE host = {p} AND full_name = {p}"
_REPO_NAME = "UPDATE codehost_repos SET repo_name = {p} WHERE id = {p}"


def _lines(values: Iterable[str]) -> str:
    return "\n".join(v for v in values if v)


def upsert_pulls(
    conn: Connection, rid: int, host: str, full_name: str, records: list[PullRecord], *, summaries: bool = True
) -> None:
    """Insert or update pull requests with their tracker links; what a record does not know is kept.

    `summaries=False` leaves first review and approval to a later `refresh_summaries` (an import
    page stores its reviews next and refreshes once).
    """
    if not records:
        return
    t = pull_requests
    numbers = [r.number for r in records]
    existing = {
        row.number: row for row in conn.exec_driver_sql(driver_sql(conn, _PULLS, len(numbers)), (rid, *numbers))
    }
    new_rows: list[dict[str, Any]] = []
    updates: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []  # runs of rows setting the same columns
    for r in records:
        old = existing.get(r.number)
        values: dict[str, Any] = {
            "title": r.title,
            "state": r.state,
            "draft": r.draft,
            "updated_at": r.updated_at,
            "merged_at": r.merged_at,
            "closed_at": r.closed_at,
            "merge_sha": r.merge_sha,
            "head_sha": r.head_sha,
            "head_ref": r.head_ref,
            "base_ref": r.base_ref,
            "labels": _lines(r.labels),
            "assignees": _lines(r.assignees),
            "body": r.body,
        }
        for name in ("additions", "deletions", "changed_files", "commits", "first_commit_at", "author_association"):
            v = getattr(r, name)
            if v is not None or old is None:
                values[name] = v
        if (r.author and r.author != "ghost") or old is None:
            values["author"], values["author_type"] = r.author, r.author_type
        values.update(_draft_times(r, old))
        if old is None:
            new_rows.append({"codehost_repo_id": rid, "number": r.number, "opened_at": r.opened_at, **values})
        elif r.updated_at >= old.updated_at or r.transition is not None:
            names = tuple(values)
            if not updates or updates[-1][0] != names:
                updates.append((names, []))
            updates[-1][1].append((*values.values(), old.id))
    for names, params in updates:
        sets = ", ".join(f"{name} = {{p}}" for name in names)
        conn.exec_driver_sql(driver_sql(conn, f"UPDATE pull_requests SET {sets} WHERE id = {{p}}"), params)
    if new_rows:
        _insert_many(conn, t, new_rows)
    set_links_many(
        conn,
        rid,
        {r.number: pull_refs(r, host, full_name) for r in records},
        known=bool(existing),
    )
    if summaries:
        refresh_summaries(conn, rid, numbers)


_PULLS = f"SELECT {_columns(pull_requests)} FROM pull_requests WHERE codehost_repo_id = {{p}} AND number IN ({{ins}})"


def pull_refs(r: PullRecord, host: str, full_name: str) -> list[Any]:
    """The tracker references of a pull request (worked out once: a regex scan of its description)."""
    if r.refs is None:
        r.refs = tracker_refs(r.title, r.body, r.head_ref, own_repo=full_name, host=host)
    return r.refs


def _draft_times(r: PullRecord, old: Any) -> dict[str, Any]:
    """Draft bookkeeping: time in draft accumulates from each draft -> ready transition."""
    draft_since = old.draft_since if old is not None else (r.opened_at if r.draft else None)
    seconds = old.draft_seconds if old is not None else 0
    ready_at = old.ready_at if old is not None else None
    if r.transition is not None:
        kind, at = r.transition
        if kind == "draft" and draft_since is None:
            draft_since = at
        elif kind == "ready":
            start = draft_since if draft_since is not None else r.opened_at
            seconds += max(at - start, 0)
            draft_since, ready_at = None, at
    elif old is not None and old.draft and not r.draft and draft_since is not None:
        # Seen as a draft before and ready now, without the transition event: it left draft by now.
        seconds += max(r.updated_at - draft_since, 0)
        draft_since, ready_at = None, r.updated_at
    elif r.draft and draft_since is None:
        draft_since = r.updated_at
    return {"draft_since": draft_since, "draft_seconds": seconds, "ready_at": ready_at}


_FIRST_COMMIT = (
    update(pull_requests)
    .where(pull_requests.c.codehost_repo_id == bindparam("_rid"), pull_requests.c.number == bindparam("_number"))
    .values(first_commit_at=bindparam("_at"), coauthors=bindparam("_coauthors"))
)


def set_first_commit(conn: Connection, rid: int, number: int, at: int | None, coauthors: list[str]) -> None:
    set_first_commits(conn, rid, [(number, at, coauthors)])


def set_first_commits(conn: Connection, rid: int, rows: list[tuple[int, int | None, list[str]]]) -> None:
    """(number, author time of the first commit, co-author trailers) of several pull requests, in one statement."""
    if rows:
        conn.execute(
            _FIRST_COMMIT,
            [{"_rid": rid, "_number": n, "_at": at, "_coauthors": _lines(co)} for n, at, co in rows],
        )


def set_links(conn: Connection, rid: int, number: int, refs: list[Any]) -> None:
    set_links_many(conn, rid, {number: refs})


def set_links_many(conn: Connection, rid: int, refs: dict[int, list[Any]], *, known: bool = True) -> None:
    """Replace the tracker links of several pull requests (`known=False`: none of them has links yet)."""
    if known and refs:
        conn.exec_driver_sql(driver_sql(conn, _UNLINK, len(refs)), (rid, *refs))
    rows = [(rid, number, x.ref, x.kind, bool(x.closes)) for number, found in refs.items() for x in found]
    if rows:
        conn.exec_driver_sql(driver_sql(conn, _LINK), rows)


_UNLINK = "DELETE FROM tracker_links WHERE codehost_repo_id = {p} AND pr_number IN ({ins})"
_LINK = _insert_sql(tracker_links, ("codehost_repo_id", "pr_number", "ref", "kind", "closes"))


def add_reviews(conn: Connection, rid: int, records: list[ReviewRecord], *, summaries: bool = True) -> None:
    """Store reviews once each (a dismissal updates the state); summaries of their pulls are refreshed."""
    if not records:
        return
    t = reviews
    keys = {(r.pr_number, r.external_id) for r in records}
    numbers = sorted({r.pr_number for r in records})
    existing = {
        (number, external_id): (id_, state)
        for id_, number, external_id, state in conn.exec_driver_sql(
            driver_sql(conn, _REVIEWS, len(numbers)), (rid, *numbers)
        )
        if (number, external_id) in keys
    }
    new_rows: dict[tuple[int, str], dict[str, Any]] = {}
    for r in records:
        key = (r.pr_number, r.external_id)
        if key in existing:
            rid_, state = existing[key]
            if state != r.state:
                conn.exec_driver_sql(driver_sql(conn, _REVIEW_STATE), (r.state, rid_))
            continue
        new_rows[key] = {
            "codehost_repo_id": rid,
            "pr_number": r.pr_number,
            "external_id": r.external_id,
            "reviewer": r.reviewer,
            "reviewer_type": r.reviewer_type,
            "state": r.state,
            "submitted_at": r.submitted_at,
            "commit_sha": r.commit_sha,
        }
    if new_rows:
        _insert_many(conn, t, list(new_rows.values()))
    if summaries:
        refresh_summaries(conn, rid, numbers)


_REVIEWS = "SELECT id, pr_number, external_id, state FROM reviews WHERE codehost_repo_id = {p} AND pr_number IN ({ins})"
_REVIEW_STATE = "UPDATE reviews SET state = {p} WHERE id = {p}"


def refresh_summaries(conn: Connection, rid: int, numbers: list[int]) -> None:
    """first_review_at (first review by someone else) and approved_at (first approval) from the reviews."""
    if not numbers:
        return
    stored = {row.number: row for row in conn.exec_driver_sql(driver_sql(conn, _STORED, len(numbers)), (rid, *numbers))}
    if not stored:
        return  # the pull requests have not arrived yet: done when they do
    first: dict[int, int] = {}
    approved: dict[int, int] = {}
    for number, reviewer, state, at in conn.exec_driver_sql(driver_sql(conn, _SUBMITTED, len(stored)), (rid, *stored)):
        if reviewer == stored[number].author:
            continue
        first[number] = min(first.get(number, at), at)
        if state == "approved":
            approved[number] = min(approved.get(number, at), at)
    changed = [
        (first.get(n), approved.get(n), rid, n)
        for n, row in stored.items()
        if (row.first_review_at, row.approved_at) != (first.get(n), approved.get(n))
    ]
    if changed:  # most often none: a new pull request without reviews
        conn.exec_driver_sql(driver_sql(conn, _SUMMARY), changed)


_STORED = (
    "SELECT number, author, first_review_at, approved_at FROM pull_requests "
    "WHERE codehost_repo_id = {p} AND number IN ({ins})"
)
_SUBMITTED = (
    "SELECT pr_number, reviewer, state, submitted_at FROM reviews WHERE codehost_repo_id = {p} AND pr_number IN ({ins})"
)
_SUMMARY = (
    "UPDATE pull_requests SET first_review_at = {p}, approved_at = {p} WHERE codehost_repo_id = {p} AND number = {p}"
)


def upsert_deployment(conn: Connection, rid: int, rec: DeploymentRecord) -> int:
    t = codehost_deployments
    row = conn.execute(select(t.c.id).where(t.c.codehost_repo_id == rid, t.c.external_id == rec.external_id)).first()
    values = {
        "sha": rec.sha,
        "ref": rec.ref,
        "environment": rec.environment,
        "creator": rec.creator,
        "created_at": rec.created_at,
        "updated_at": rec.updated_at,
    }
    if row is not None:
        conn.execute(update(t).where(t.c.id == row.id).values(**values))
        return int(row.id)
    new = conn.execute(insert(t).values(codehost_repo_id=rid, external_id=rec.external_id, **values))
    return int(new.inserted_primary_key[0])  # type: ignore[index]


def add_status(conn: Connection, rid: int, st: StatusRecord) -> None:
    """A deployment status: the latest state wins; first success and first failure are kept."""
    t = codehost_deployments
    row = conn.execute(
        select(t.c.id, t.c.status_at, t.c.succeeded_at, t.c.failed_at).where(
            t.c.codehost_repo_id == rid, t.c.external_id == st.deployment_id
        )
    ).first()
    if row is None:
        return
    values: dict[str, Any] = {}
    if row.status_at is None or st.at >= row.status_at:
        values |= {"status": st.state, "status_at": st.at}
    if st.state in SUCCESS and (row.succeeded_at is None or st.at < row.succeeded_at):
        values["succeeded_at"] = st.at
    if st.state in FAILURE and (row.failed_at is None or st.at < row.failed_at):
        values["failed_at"] = st.at
    if values:
        conn.execute(update(t).where(t.c.id == row.id).values(**values))


def upsert_issues(conn: Connection, rid: int, records: list[IssueRecord]) -> None:
    t = tracker_issues
    if not records:
        return
    existing = {
        row.number: row.id
        for row in conn.execute(
            select(t.c.id, t.c.number).where(t.c.codehost_repo_id == rid, t.c.number.in_([r.number for r in records]))
        )
    }
    for r in records:
        cause = incident_cause(r.body)
        values = {
            "title": r.title,
            "author": r.author,
            "state": r.state,
            "issue_type": r.issue_type,
            "labels": _lines(r.labels),
            "created_at": r.created_at,
            "closed_at": r.closed_at,
            "updated_at": r.updated_at,
            "cause_sha": cause.sha,
            "cause_pr": cause.pr,
            "resolution": cause.resolution,
        }
        if r.number in existing:
            conn.execute(update(t).where(t.c.id == existing[r.number]).values(**values))
        else:
            conn.execute(insert(t).values(codehost_repo_id=rid, number=r.number, **values))


def upsert_run(conn: Connection, rid: int, r: RunRecord) -> None:
    t = ci_runs
    values = {
        "name": r.name,
        "status": r.status,
        "head_sha": r.head_sha,
        "branch": r.branch,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
    }
    row = conn.execute(select(t.c.id).where(t.c.codehost_repo_id == rid, t.c.external_id == r.external_id)).first()
    if row is None:
        conn.execute(insert(t).values(codehost_repo_id=rid, external_id=r.external_id, **values))
    else:
        conn.execute(update(t).where(t.c.id == row.id).values(**values))


def upsert_release(conn: Connection, rid: int, r: ReleaseRecord) -> None:
    t = releases
    found = conn.execute(select(t.c.tag).where(t.c.codehost_repo_id == rid, t.c.tag == r.tag)).first()
    values = {"name": r.name, "published_at": r.published_at}
    if found is None:
        conn.execute(insert(t).values(codehost_repo_id=rid, tag=r.tag, **values))
    else:
        conn.execute(update(t).where(t.c.codehost_repo_id == rid, t.c.tag == r.tag).values(**values))


def save_etags(conn: Connection, etags: dict[str, str]) -> None:
    t = http_etags
    if not etags:
        return
    known = set(conn.execute(select(t.c.url).where(t.c.url.in_(list(etags)))).scalars())
    for url, etag in etags.items():
        if url in known:
            conn.execute(update(t).where(t.c.url == url).values(etag=etag))
        else:
            conn.execute(insert(t).values(url=url, etag=etag))


def load_etags(conn: Connection, prefix: str) -> dict[str, str]:
    t = http_etags
    return dict(conn.execute(select(t.c.url, t.c.etag).where(t.c.url.startswith(prefix, autoescape=True))).all())


# ---- what the report reads: the store's `deployments` and `incidents` of the onebar repository ----


def sync_report_tables(
    conn: Connection,
    rid: int,
    incident_labels: tuple[str, ...] = INCIDENT_LABELS,
    *,
    deployment_ids: list[str] | None = None,
    issue_numbers: list[int] | None = None,
) -> int:
    """Copy finished host deployments and incident issues into `deployments` / `incidents` of every
    store repository named like the host repository's `repo_name`; returns how many repositories.

    Host deployments are events (source = the host): the report prefers them to a tag on the same
    commit. Nothing is copied until the repository is in the store; the next sync catches up.
    """
    host, name = conn.execute(
        select(codehost_repos.c.host, codehost_repos.c.repo_name).where(codehost_repos.c.id == rid)
    ).one()
    targets = list(conn.execute(select(repositories.c.id).where(repositories.c.name == name)).scalars())
    if not targets:
        return 0
    cd = codehost_deployments
    dq = select(cd).where(cd.c.codehost_repo_id == rid, (cd.c.succeeded_at.isnot(None)) | (cd.c.failed_at.isnot(None)))
    if deployment_ids is not None or issue_numbers is not None:  # one event: only what it touched
        dq = dq.where(cd.c.external_id.in_(deployment_ids or []))
    finished = conn.execute(dq).all()
    ti = tracker_issues
    iq = select(ti).where(ti.c.codehost_repo_id == rid)
    if deployment_ids is not None or issue_numbers is not None:
        iq = iq.where(ti.c.number.in_(issue_numbers or []))
    issues = conn.execute(iq).all()
    incident_rows = [i for i in issues if _is_incident(i, incident_labels)]
    for repo_id in targets:
        for d in finished:
            ok = d.succeeded_at is not None
            _upsert(
                conn,
                deployments,
                repo_id,
                host,
                str(d.external_id),
                {
                    "ref": d.ref or (d.sha or ""),
                    "sha": d.sha,
                    "environment": d.environment,
                    "deployed_at": d.succeeded_at if ok else d.failed_at,
                    "status": "success" if ok else "failure",
                },
            )
        for i in incident_rows:
            _upsert(
                conn,
                incidents,
                repo_id,
                host,
                str(i.number),
                {
                    "title": i.title,
                    "started_at": i.created_at,
                    "resolved_at": i.closed_at,
                    "cause_sha": i.cause_sha,
                    "cause_change": f"#{i.cause_pr}" if i.cause_pr else None,
                    "resolution": i.resolution,
                },
            )
    return len(targets)


def _is_incident(issue: Any, labels: tuple[str, ...]) -> bool:
    if issue.issue_type == "incident":
        return True
    mine = issue.labels.split("\n") if issue.labels else []
    return any(lb == want or lb.startswith(want + ":") for lb in mine for want in labels)


def _upsert(conn: Connection, table: Any, repo_id: int, source: str, external_id: str, values: dict[str, Any]) -> None:
    found = conn.execute(
        select(table.c.id).where(
            table.c.repo_id == repo_id, table.c.source == source, table.c.external_id == external_id
        )
    ).scalar()
    if found is None:
        conn.execute(insert(table).values(repo_id=repo_id, source=source, external_id=external_id, **values))
    else:
        conn.execute(update(table).where(table.c.id == found).values(**values))


def count(conn: Connection, table: Any, rid: int) -> int:
    return int(
        conn.execute(select(func.count()).select_from(table).where(table.c.codehost_repo_id == rid)).scalar_one()
    )
