"""Gathering a milestone's evidence from an opened workspace: git, the store, the report and the ADRs.

- Changes in scope: commits (merges aside) in the milestone's window by the milestone's
  organisation that touch a scope file; with a tracker label, also the merge and head commits of
  merged pull requests carrying it (`onebar import` stores them).
- Gate runs: the verdicts CI posts to the service (`gate_runs`), each covering the commits of its
  range base..head. Before the service stores any, the gate criteria say so.
- The organisation's change failure rate over the window, and who authors the scope's files, come
  from the report; decisions from the ADR directory; incidents from the store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pathspec
from sqlalchemy import Connection, inspect, select

from onebar.access.model import internal_org
from onebar.adr.ops import load_all
from onebar.charter.identity import Resolver
from onebar.charter.model import Charter, Milestone
from onebar.errors import GitError
from onebar.git import git
from onebar.milestones import judge
from onebar.onboard.knowledge import Knowledge, from_report
from onebar.report import report_for
from onebar.store.schema import commits, file_changes, identities, incidents
from onebar.store.schema_service import gate_runs as gate_runs_table
from onebar.workspace import Workspace

DEFAULT_DAYS = 90
_COVERAGE = re.compile(r"([\d.]+)% of (\d+) changed lines covered")
_ZERO = "0" * 40


def _ts(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def scope_spec(charter: Charter, m: Milestone) -> pathspec.GitIgnoreSpec:
    lines = [p for c in m.components for p in charter.components[c].paths] + list(m.paths)
    return pathspec.GitIgnoreSpec.from_lines(lines)


def window_of(m: Milestone, today: date) -> tuple[date, date]:
    """(first day, last day) of the changes that count: start (or 90 days before due) to due or today."""
    start = m.start or (m.due - timedelta(days=DEFAULT_DAYS))
    return start, min(m.due, today)


def changes_in_scope(
    conn: Connection, ws: Workspace, m: Milestone, spec: pathspec.GitIgnoreSpec, start: date, end: date
) -> list[judge.Change]:
    """The organisation's commits in the window touching the scope (merges aside, their commits count)."""
    resolver = Resolver(ws.charter)
    rows = conn.execute(
        select(commits.c.id, commits.c.sha, commits.c.parents, commits.c.authored_at, identities.c.name,
               identities.c.email)
        .join(identities, identities.c.id == commits.c.author_id)
        .where(
            commits.c.repo_id == ws.repo_id,
            commits.c.reachable.is_(True),
            commits.c.authored_at >= _ts(start),
            commits.c.authored_at < _ts(end) + 86400,
        )
    ).all()  # fmt: skip
    mine = {}
    for r in rows:
        if " " in (r.parents or "").strip():
            continue
        match = resolver.resolve(r.name, r.email)
        if match.org == m.organisation:
            mine[r.id] = (r.sha, match.person or r.email, int(r.authored_at))
    files: dict[int, list[str]] = {}
    ids = list(mine)
    for i in range(0, len(ids), 500):
        q = select(file_changes.c.commit_id, file_changes.c.path).where(file_changes.c.commit_id.in_(ids[i : i + 500]))
        for cid, path in conn.execute(q):
            if spec.match_file(path):
                files.setdefault(cid, []).append(path)
    out = [judge.Change(mine[c][0], mine[c][1], mine[c][2], tuple(sorted(fs))) for c, fs in files.items()]
    if m.label:
        out += _labelled(conn, ws, m.label, start, end, {c.sha for c in out})
    return sorted(out, key=lambda c: (c.at, c.sha))


def _labelled(
    conn: Connection, ws: Workspace, label: str, start: date, end: date, seen: set[str]
) -> list[judge.Change]:
    """Merged pull requests carrying the tracker label, as the code host import stored them."""
    if not inspect(conn).has_table("pull_requests"):
        return []
    from onebar.store.schema_codehost import codehost_repos, pull_requests

    q = (
        select(pull_requests.c.merge_sha, pull_requests.c.head_sha, pull_requests.c.author, pull_requests.c.merged_at,
               pull_requests.c.labels)
        .join(codehost_repos, codehost_repos.c.id == pull_requests.c.codehost_repo_id)
        .where(
            codehost_repos.c.repo_name == ws.repo.name,
            pull_requests.c.merged_at >= _ts(start),
            pull_requests.c.merged_at < _ts(end) + 86400,
        )
    )  # fmt: skip
    out = []
    for r in conn.execute(q):
        if label not in (r.labels or "").split("\n"):
            continue
        for sha in (r.head_sha, r.merge_sha):
            if sha and sha not in seen:
                seen.add(sha)
                out.append(judge.Change(sha, r.author, int(r.merged_at), ()))
    return out


def gate_runs(conn: Connection, ws: Workspace, since: date) -> list[judge.GateRun] | None:
    """Verdicts posted for the repository since `since`, with the commits each range covers.

    None when the store holds none for the repository (the service has not received any).
    """
    c = gate_runs_table.c
    rows = conn.execute(
        select(c.status, c.base, c.head, c.posted_at, c.verdict).where(c.repo == ws.repo.name).order_by(c.posted_at)
    ).all()
    if not rows:
        return None
    out = []
    for r in rows:
        if int(r.posted_at) < _ts(since):
            continue
        out.append(judge.GateRun(r.status, r.head, int(r.posted_at), _range(ws, r.base, r.head), _coverage(r.verdict)))
    return out


def _range(ws: Workspace, base: str, head: str) -> frozenset[str]:
    """The commits of base..head (head alone when the base is the empty tree or unknown here)."""
    try:
        if not base or set(base) == {"0"} or base == _ZERO:
            return frozenset(git(ws.repo.root, "rev-list", "--max-count=1", head).decode().split())
        return frozenset(git(ws.repo.root, "rev-list", f"{base}..{head}").decode().split())
    except GitError:
        return frozenset({head})


def _coverage(verdict: Any) -> tuple[float, int] | None:
    try:
        data = json.loads(verdict) if isinstance(verdict, str) else verdict
    except ValueError:
        return None
    for rule in (data or {}).get("rules", []):
        if rule.get("id") == "coverage.changed" and rule.get("status") in ("pass", "fail"):
            m = _COVERAGE.search(str(rule.get("saw", "")))
            if m:
                return float(m.group(1)), int(m.group(2))
    return None


def open_incidents(
    conn: Connection, ws: Workspace, changes: Iterable[judge.Change], start: date
) -> tuple[list[judge.Incident], int]:
    """Open incidents, each with the changes in scope its deployment shipped; and how many name no deployment."""
    shas = {c.sha for c in changes}
    rows = conn.execute(
        select(incidents.c.title, incidents.c.started_at, incidents.c.deployment_ref).where(
            incidents.c.repo_id == ws.repo_id, incidents.c.resolved_at.is_(None)
        )
    ).all()
    out, unattributed = [], 0
    for r in rows:
        if not r.deployment_ref:
            unattributed += 1
            continue
        try:
            shipped = set(
                git(ws.repo.root, "rev-list", f"--since={start.isoformat()}", r.deployment_ref).decode().split()
            )
        except GitError:
            shipped = set()
        caused = tuple(s[:12] for s in sorted(shas & shipped))
        out.append(judge.Incident(r.title, int(r.started_at), r.deployment_ref, caused))
    return out, unattributed


def scope_adrs(ws: Workspace, m: Milestone) -> tuple[list[tuple[str, str, list[str]]], list[int]]:
    """(ref, status, signers) of the decisions naming the scope or listed; and listed numbers that do not exist."""
    adrs = [] if ws.repo.bare else load_all(ws.repo.root / ws.charter.done.adr.directory)
    words = {c.lower() for c in m.components} | {p.split("*")[0].strip("/").lower() for p in m.paths}
    words |= {p.split("*")[0].strip("/").lower() for c in m.components for p in ws.charter.components[c].paths}
    words.discard("")
    if m.label:
        words.add(m.label.lower())
    found = []
    by_number = {a.number: a for a in adrs}
    for a in adrs:
        if a.status in ("superseded", "rejected", "deprecated") and a.number not in m.adrs:
            continue
        text = f"{a.title}\n{a.body}".lower()
        if a.number in m.adrs or any(w in text for w in words):
            found.append((a.ref, a.status, [s.person for s in a.signoffs]))
    return found, [n for n in m.adrs if n not in by_number]


def evaluate(ws: Workspace, *, today: date) -> list[judge.Result]:
    """Every milestone of the charter judged on today's evidence."""
    charter = ws.charter
    if not charter.milestones:
        return []
    know: Knowledge = from_report(report_for(ws, since="all"))
    home = internal_org(charter)
    head_files = ws.head().files
    reports: dict[tuple[date, date], dict[str, Any]] = {}
    results = []
    with ws.store.read() as conn:
        for m in charter.milestones:
            start, end = window_of(m, today)
            spec = scope_spec(charter, m)
            scope = {"components": m.components, "paths": m.paths, "label": m.label}
            res = judge.Result(m.id, m.title, m.organisation, m.due, start, m.payment, scope)
            changes = changes_in_scope(conn, ws, m, spec, start, end) if end >= start else []
            res.changes = len(changes)
            runs = gate_runs(conn, ws, start) if {"gate_passed", "coverage_changed_min"} & set(m.criteria()) else None
            for crit in m.criteria():
                if crit == "gate_passed":
                    res.criteria.append(judge.gate_passed(changes, runs, ws.repo.name))
                elif crit == "coverage_changed_min":
                    assert m.coverage_changed_min is not None
                    res.criteria.append(judge.coverage_changed(m.coverage_changed_min, changes, runs))
                elif crit == "change_failure_rate_max":
                    assert m.change_failure_rate_max is not None
                    key = (start, end)
                    if key not in reports:
                        reports[key] = report_for(ws, since=start.isoformat(), until=end.isoformat()).to_json()
                    org = reports[key]["dora"]["by_org"].get(m.organisation, {})
                    rate, n = org.get("change_failure_rate"), int(org.get("deployments") or 0)
                    res.criteria.append(judge.change_failure_rate(m.change_failure_rate_max, m.organisation, rate, n))
                elif crit == "internal_knowers_min":
                    assert m.internal_knowers_min is not None
                    files = [f for f in know.authors if spec.match_file(f) and (head_files is None or f in head_files)]
                    knowers: dict[str, int] = {}
                    for f in files:
                        for p in know.authors[f]:
                            person = charter.people.get(p)
                            if person is not None and person.org == home and person.under_contract(today):
                                knowers[p] = knowers.get(p, 0) + 1
                    res.criteria.append(judge.internal_knowers(m.internal_knowers_min, home, knowers, len(files)))
                elif crit == "adrs_signed":
                    found, missing = scope_adrs(ws, m)
                    leads = [charter.lead_of(m.organisation), charter.lead_of(home) if home else None]
                    signers = list(dict.fromkeys(x for x in leads if x))
                    res.criteria.append(judge.adrs_signed(found, missing, signers))
                elif crit == "no_open_incidents":
                    opened, unattributed = open_incidents(conn, ws, changes, start)
                    res.criteria.append(judge.no_open_incidents(opened, unattributed))
            res.status = judge.overall(res.criteria, m.due, today)
            results.append(res)
    return results
