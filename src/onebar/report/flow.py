"""The report's code-host part: read what GitHub and GitLab told about a repository, resolve it
through the charter, and hand it to the flow metrics (`onebar.metrics.flow`).

    code = load(store, repo_name, charter, find_all)   one query when there is nothing (the usual case)
    code.approvals()                                   the commit that merged each pull request -> its human
                                                       approvers, for the cross-organisation review figures
    code.section(window, linked)                       the report's `flow` section (or why there is none)

Logins resolve through the charter (a person's `github` login, or a person id equal to the
login); bots (account type Bot, `[bot]` logins, the robot table) and AI agents (the robot table's
agent logins) by pattern; any other login is a human of an unknown organisation, who counts as a
reviewer but never as "another organisation". Code-host data is keyed by the onebar repository's
name (`codehost_repos.repo_name`), so it may arrive before the history is ingested.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from onebar.charter.identity import Resolver
from onebar.charter.model import Charter
from onebar.metrics import flow
from onebar.metrics.dora import Linked
from onebar.metrics.model import AGENT, BOT, HUMAN, UNKNOWN_ORG, Contributor, Window
from onebar.store import Store
from onebar.store.schema_codehost import (
    codehost_deployments,
    codehost_repos,
    pull_requests,
    reviews,
    tracker_issues,
    tracker_links,
)

_ADDRESS = re.compile(r"^\s*(.*?)\s*<([^>]*)>")
# Shas to their indexes in the report's history (-1 when unknown), all at once.
FindCommits = Callable[[Sequence[str]], list[int]]


class Logins:
    """Host login -> flow.Who, through the charter."""

    def __init__(self, charter: Charter):
        self.charter = charter
        self.resolver = Resolver(charter)
        self.cache: dict[tuple[str, str], flow.Who] = {}

    def who(self, login: str, account_type: str = "User") -> flow.Who:
        key = (login, account_type)
        hit = self.cache.get(key)
        if hit is None:
            hit = self.cache[key] = self._who(login, account_type)
        return hit

    def _who(self, login: str, account_type: str) -> flow.Who:
        pid = self.resolver.person_by_login(login) or (login if login in self.charter.people else None)
        if pid is not None:
            org = self.charter.people[pid].org
            kind = self.charter.organisations[org].kind if org in self.charter.organisations else "unknown"
            return flow.Who(pid, org, BOT if kind == "bot" else AGENT if kind == "agent" else HUMAN)
        # A login is what a GitHub noreply address carries: the robot table (the charter's and the
        # built-in one) knows agents and bots by it; a "[bot]" login is a GitHub App's account.
        robot = self.resolver.robots.kind(login, f"{login}@users.noreply.github.com")
        if robot == AGENT:
            return flow.Who(login.removesuffix("[bot]"), UNKNOWN_ORG, AGENT)
        if robot == BOT or account_type == "Bot" or login.endswith("[bot]"):
            return flow.Who(login, UNKNOWN_ORG, BOT)
        return flow.Who(login, UNKNOWN_ORG, HUMAN)

    def address(self, value: str) -> flow.Who:
        """A 'Name <e-mail>' co-author trailer, resolved as git identities are."""
        m_addr = _ADDRESS.match(value)
        name, email = (m_addr.group(1).strip('"'), m_addr.group(2).strip()) if m_addr else (value.strip(), "")
        m = self.resolver.resolve(name, email)
        kind = {"bot": BOT, "agent": AGENT}.get(m.kind, HUMAN)
        return flow.Who(m.person or email.lower() or name, m.org or UNKNOWN_ORG, kind)


@dataclass
class CodeHost:
    """Everything the code hosts told about one onebar repository, resolved through the charter."""

    repo_name: str
    charter: Charter
    sources: list[str] = field(default_factory=list)  # "github:acme/shop"
    changes: list[flow.Change] = field(default_factory=list)
    deployment_rows: Sequence[Any] = ()
    issue_rows: Sequence[Any] = ()
    commit_of: dict[str, int] = field(default_factory=dict)  # merge sha -> history index, when in the history

    @property
    def available(self) -> bool:
        return bool(self.changes or self.deployment_rows)

    def approvals(self) -> dict[int, tuple[Contributor, ...]]:
        """The commit that merged each pull request (its merge or squash commit) -> the people whose
        latest review approved it (humans only; the author never reviews their own change).

        Every merged pull request found in the history has an entry, possibly empty: the review
        figures then read its reviews instead of who committed or merged it.
        """
        out: dict[int, tuple[Contributor, ...]] = {}
        for c in self.changes:
            commit = self.commit_of.get(c.merge_sha or "", -1) if c.merged_at is not None else -1
            if commit >= 0:
                out[commit] = tuple(Contributor(w.key, w.org, w.kind, w.key) for w in flow.approvers(c))
        return out

    def section(self, window: Window, linked: Linked | None = None) -> flow.Flow:
        """The report's `flow` section, or `available: false` saying plainly why.

        With the report's linking of commits to deployments (`linked`), a change reached production
        with the first deployment containing its merge commit; without it, or for a merge commit not
        in the history, with the first successful host deployment after its merge.
        """
        if not self.available:
            return flow.Flow(
                available=False,
                reason=f"no code-host data for repository {self.repo_name!r}: run onebar import github "
                f"OWNER/REPO --repo {self.repo_name} (or gitlab), or register a webhook with onebar hook add",
            )
        changes = self.changes
        linked_commits: set[int] = set()
        for c in changes:
            commit = self.commit_of.get(c.merge_sha or "", -1) if c.merged_at is not None else -1
            c.deployed_at = None
            if linked is not None and commit >= 0:
                linked_commits.add(c.number)
                first = int(linked.deployment_of[commit])
                c.deployed_at = int(linked.deployments[first].at) if first >= 0 else None
        env, label = self.charter.delivery.environment, self.charter.delivery.incident_label
        deps, incidents = _failures(changes, self.deployment_rows, self.issue_rows, env, label)
        by_number = {c.number: c for c in changes}
        for d in deps:  # what git cannot link: the first successful host deployment after the merge
            if not d.failed:
                for n in d.changes:
                    if n not in linked_commits and by_number[n].deployed_at is None:
                        by_number[n].deployed_at = d.at
        return flow.section(self.sources, changes, deps, incidents, window, self.charter.delivery.tracker_pattern)


def load(store: Store, repo_name: str, charter: Charter, find_all: FindCommits | None = None) -> CodeHost:
    """Read the code-host tables of `repo_name` (one query when there are none); `find_all` places
    the pull requests' merge commits in the report's history."""
    out = CodeHost(repo_name, charter)
    with store.read() as conn:
        repos = conn.execute(
            select(codehost_repos.c.id, codehost_repos.c.host, codehost_repos.c.full_name)
            .where(codehost_repos.c.repo_name == repo_name)
            .order_by(codehost_repos.c.host, codehost_repos.c.full_name)
        ).all()
        if not repos:
            return out
        ids = [r.id for r in repos]
        pr_rows = conn.execute(select(pull_requests).where(pull_requests.c.codehost_repo_id.in_(ids))).all()
        review_rows = conn.execute(select(reviews).where(reviews.c.codehost_repo_id.in_(ids))).all()
        link_rows = conn.execute(select(tracker_links).where(tracker_links.c.codehost_repo_id.in_(ids))).all()
        out.deployment_rows = conn.execute(
            select(codehost_deployments).where(codehost_deployments.c.codehost_repo_id.in_(ids))
        ).all()
        out.issue_rows = conn.execute(select(tracker_issues).where(tracker_issues.c.codehost_repo_id.in_(ids))).all()
    out.sources = [f"{r.host}:{r.full_name}" for r in repos]
    logins = Logins(charter)
    by_pr: dict[tuple[int, int], list[flow.Review]] = {}
    for r in review_rows:
        by_pr.setdefault((r.codehost_repo_id, r.pr_number), []).append(
            flow.Review(logins.who(r.reviewer, r.reviewer_type), r.state, r.submitted_at)
        )
    refs: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for x in link_rows:
        refs.setdefault((x.codehost_repo_id, x.pr_number), []).append((x.ref, x.kind))
    out.changes = [
        flow.Change(
            number=p.number,
            title=p.title,
            author=logins.who(p.author, p.author_type),
            opened_at=p.opened_at,
            first_commit_at=p.first_commit_at,
            ready_at=p.ready_at,
            draft_seconds=p.draft_seconds or 0,
            merged_at=p.merged_at,
            closed_at=p.closed_at,
            reviews=by_pr.get((p.codehost_repo_id, p.number), []),
            refs=refs.get((p.codehost_repo_id, p.number), []),
            labels=[x for x in p.labels.split("\n") if x],
            assignees=[logins.who(a) for a in p.assignees.split("\n") if a],
            coauthors=[logins.address(a) for a in p.coauthors.split("\n") if a],
            merge_sha=p.merge_sha,
        )
        for p in pr_rows
    ]
    if find_all is not None:
        shas = sorted({c.merge_sha for c in out.changes if c.merge_sha and c.merged_at is not None})
        out.commit_of = {sha: i for sha, i in zip(shas, find_all(shas), strict=True) if i >= 0}
    return out


def _failures(
    changes: list[flow.Change], dep_rows: Sequence[Any], issue_rows: Sequence[Any], env: str, label: str
) -> tuple[list[flow.HostDeployment], list[flow.HostIncident]]:
    """Host deployments of the environment with the changes each first shipped, and incident issues."""
    finished = sorted(
        (d for d in dep_rows if d.environment == env and (d.succeeded_at or d.failed_at)),
        key=lambda d: d.succeeded_at or d.failed_at,
    )
    deps: list[flow.HostDeployment] = []
    taken: set[int] = set()
    by_number = {c.number: c for c in changes}
    merged_sha = {c.merge_sha: c.number for c in changes if c.merge_sha}
    for d in finished:
        at = d.succeeded_at or d.failed_at
        # A change ships with the first deployment after its merge (or of its merge commit itself).
        shipped = tuple(
            n
            for n, c in by_number.items()
            if n not in taken and c.merged_at is not None and (c.merged_at <= at or merged_sha.get(d.sha) == n)
        )
        if d.succeeded_at:
            taken.update(shipped)
        deps.append(flow.HostDeployment(str(d.external_id), at, d.succeeded_at is None, shipped, d.environment))
    times = [d.at for d in deps]
    incidents = []
    for i in issue_rows:
        labels = i.labels.split("\n") if i.labels else []
        if not (
            i.issue_type == "incident"
            or any(lb == label.lower() or lb.startswith(label.lower() + ":") for lb in labels)
        ):
            continue
        cause_dep = -1
        if i.cause_pr is not None:
            cause_dep = next((k for k, d in enumerate(deps) if i.cause_pr in d.changes), -1)
        if cause_dep < 0:
            before = [k for k, t in enumerate(times) if t <= i.created_at and not deps[k].failed]
            cause_dep = before[-1] if before else -1
        incidents.append(flow.HostIncident(i.number, i.created_at, i.closed_at, i.cause_pr, cause_dep))
    return deps, incidents


def state_digest(conn: Connection, repo_name: str) -> str:
    """A digest of the code-host data of `repo_name`: it changes whenever the report's flow section may.

    (The service's materialised report is recomputed when its inputs' digest changes.)
    """
    h = hashlib.sha256()
    ids = select(codehost_repos.c.id).where(codehost_repos.c.repo_name == repo_name).scalar_subquery()
    for table, stamp in (
        (pull_requests, pull_requests.c.updated_at),
        (reviews, reviews.c.id),
        (codehost_deployments, codehost_deployments.c.updated_at),
        (codehost_deployments, codehost_deployments.c.status_at),
        (tracker_issues, tracker_issues.c.updated_at),
    ):
        count, top = conn.execute(select(func.count(), func.max(stamp)).where(table.c.codehost_repo_id.in_(ids))).one()
        h.update(f"{table.name}:{count}:{top}\n".encode())
    return h.hexdigest()[:16]
