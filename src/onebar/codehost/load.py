"""Reading code-host data of one onebar repository into the flow metrics' plain records.

Logins resolve through the charter (a person's `github` login, or a person id equal to the login);
bots (account type Bot, `[bot]` logins, well-known tooling) and AI agents (agent names, as for git
identities) by pattern; any other login is a human of an unknown organisation, who counts as a
reviewer but never as "another organisation". `sections` is what the report shows, or says plainly
that the store has no code-host data for the repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from onebar.charter.identity import Resolver, kind_by_pattern
from onebar.charter.model import Charter
from onebar.metrics import flow
from onebar.metrics.model import AGENT, BOT, HUMAN, UNKNOWN_ORG, Window
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
# Deployment time of a merge commit (from the report's git linking), or None when not deployed.
DeployedAt = Callable[[str], int | None]


@dataclass
class FlowData:
    repos: list[str]  # host repositories feeding this onebar repository ("github:acme/shop")
    changes: list[flow.Change]
    deployments: list[flow.HostDeployment]
    incidents: list[flow.HostIncident]
    pulls: set[int]


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
        bare = login.removesuffix("[bot]")
        pid = self.resolver.person_by_login(login) or (login if login in self.charter.people else None)
        if pid is not None:
            org = self.charter.people[pid].org
            kind = self.charter.organisations[org].kind if org in self.charter.organisations else "unknown"
            return flow.Who(pid, org, BOT if kind == "bot" else AGENT if kind == "agent" else HUMAN)
        pattern = kind_by_pattern(bare, "")
        if pattern == "agent" or kind_by_pattern(bare.replace("-", " "), "") == "agent":
            return flow.Who(bare, UNKNOWN_ORG, AGENT)
        if account_type == "Bot" or login.endswith("[bot]") or pattern == "bot":
            return flow.Who(login, UNKNOWN_ORG, BOT)
        return flow.Who(login, UNKNOWN_ORG, HUMAN)

    def address(self, value: str) -> flow.Who:
        """A 'Name <e-mail>' co-author trailer, resolved as git identities are."""
        m_addr = _ADDRESS.match(value)
        name, email = (m_addr.group(1).strip('"'), m_addr.group(2).strip()) if m_addr else (value.strip(), "")
        m = self.resolver.resolve(name, email)
        kind = {"bot": BOT, "agent": AGENT}.get(m.kind, HUMAN)
        return flow.Who(m.person or email.lower() or name, m.org or UNKNOWN_ORG, kind)


def load(store: Store, repo_name: str, charter: Charter, deployed_at: DeployedAt | None = None) -> FlowData:
    """Everything the code hosts told about `repo_name`, resolved through the charter."""
    logins = Logins(charter)
    with store.read() as conn:
        repos = conn.execute(
            select(codehost_repos.c.id, codehost_repos.c.host, codehost_repos.c.full_name).where(
                codehost_repos.c.repo_name == repo_name
            )
        ).all()
        ids = [r.id for r in repos]
        pr_rows = conn.execute(select(pull_requests).where(pull_requests.c.codehost_repo_id.in_(ids))).all()
        review_rows = conn.execute(select(reviews).where(reviews.c.codehost_repo_id.in_(ids))).all()
        link_rows = conn.execute(select(tracker_links).where(tracker_links.c.codehost_repo_id.in_(ids))).all()
        dep_rows = conn.execute(
            select(codehost_deployments).where(codehost_deployments.c.codehost_repo_id.in_(ids))
        ).all()
        issue_rows = conn.execute(select(tracker_issues).where(tracker_issues.c.codehost_repo_id.in_(ids))).all()
    by_pr: dict[tuple[int, int], list[flow.Review]] = {}
    for r in review_rows:
        by_pr.setdefault((r.codehost_repo_id, r.pr_number), []).append(
            flow.Review(logins.who(r.reviewer, r.reviewer_type), r.state, r.submitted_at)
        )
    refs: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for x in link_rows:
        refs.setdefault((x.codehost_repo_id, x.pr_number), []).append((x.ref, x.kind))
    env = charter.delivery.environment

    def deployed(sha: str | None) -> int | None:
        return deployed_at(sha) if sha and deployed_at is not None else None

    changes = []
    for p in pr_rows:
        changes.append(
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
                deployed_at=deployed(p.merge_sha) if p.merged_at else None,
                reviews=by_pr.get((p.codehost_repo_id, p.number), []),
                refs=refs.get((p.codehost_repo_id, p.number), []),
                labels=[x for x in p.labels.split("\n") if x],
                assignees=[logins.who(a) for a in p.assignees.split("\n") if a],
                coauthors=[logins.address(a) for a in p.coauthors.split("\n") if a],
            )
        )
    deployments, incidents = _failures(changes, pr_rows, dep_rows, issue_rows, env, charter.delivery.incident_label)
    if deployed_at is None:  # no git to link with: a change ships with the first deployment after its merge
        by_number = {c.number: c for c in changes}
        for d in deployments:
            if not d.failed:
                for n in d.changes:
                    by_number[n].deployed_at = d.at
    return FlowData(
        [f"{r.host}:{r.full_name}" for r in repos], changes, deployments, incidents, {p.number for p in pr_rows}
    )


def _failures(
    changes: list[flow.Change],
    pr_rows: Sequence[Any],
    dep_rows: Sequence[Any],
    issue_rows: Sequence[Any],
    env: str,
    label: str,
) -> tuple[list[flow.HostDeployment], list[flow.HostIncident]]:
    """Host deployments of the environment with the changes each first shipped, and incident issues."""
    finished = sorted(
        (d for d in dep_rows if d.environment == env and (d.succeeded_at or d.failed_at)),
        key=lambda d: d.succeeded_at or d.failed_at,
    )
    deps: list[flow.HostDeployment] = []
    taken: set[int] = set()
    by_number = {c.number: c for c in changes}
    merged_sha = {p.merge_sha: p.number for p in pr_rows if p.merge_sha}
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


def sections(
    store: Store, repo_name: str, charter: Charter, window: Window, deployed_at: DeployedAt | None = None
) -> dict[str, Any]:
    """The code-host sections of the report, or `available: false` with the reason."""
    data = load(store, repo_name, charter, deployed_at)
    if not data.changes and not data.deployments:
        return {
            "available": False,
            "reason": f"no code-host data for repository {repo_name!r}: run onebar import github OWNER/REPO "
            f"--repo {repo_name} (or gitlab), or register a webhook with onebar hook add",
        }
    pattern = charter.delivery.tracker_pattern
    return {
        "available": True,
        "sources": data.repos,
        "lead_time_stages": flow.lead_time(data.changes, window),
        "reviews": flow.review_matrix(data.changes, window),
        "failures": flow.failures(data.changes, data.deployments, data.incidents, window),
        "backlog": flow.backlog(data.changes, window, pattern, data.pulls),
        "agents": flow.agents(data.changes, window),
    }
