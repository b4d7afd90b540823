"""The code-host part of the report (its `flow` section) as blocks every renderer lays out its way.

    blocks(report) -> [Block(title, lines, tables)]   text, Markdown and HTML each render these

When the store has no code-host data the one block says so plainly, with what would bring it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from onebar.metrics.flow import Flow
from onebar.report.model import Report
from onebar.report.render.common import dur, num, pct

TITLE = "Code hosts: pull requests, reviews, deployments"
LISTED = 10  # untraced and agent changes listed; JSON has them all


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Block:
    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def blocks(report: Report) -> list[Block]:
    f = report.flow
    if not f.available:
        return [Block(TITLE, [f"No code-host data: {f.reason}."])]
    return [_lead_time(f), _reviews(f), _failures(f), _backlog(f), _agents(f)]


def _lead_time(f: Flow) -> Block:
    lt = f.lead_time_stages
    assert lt is not None
    rows = []
    for org, s in [("all", lt.overall), *lt.by_org.items()]:
        rows.append(
            [org, num(s.changes, 0), *(dur(h.median) for h in (s.coding, s.pickup, s.review, s.deploy, s.total)),
             num(s.unreviewed, 0), num(s.undeployed, 0)]
        )  # fmt: skip
    headers = ["Org", "Merged", "Coding", "Pickup", "Review", "Deploy", "Total", "Unreviewed", "Undeployed"]
    return Block(
        f"{TITLE} ({', '.join(f.sources)})",
        [
            "Lead time by stage (medians), per organisation of the change's author: coding (first commit → "
            "opened), pickup (ready → first human review), review (→ merge), deploy (merge → production); "
            "time in draft excluded.",
            *lt.reasons.values(),
        ],
        [Table("Lead time by stage", headers, rows)],
    )


def _reviews(f: Flow) -> Block:
    rv = f.reviews
    assert rv is not None
    rows = [
        [
            org,
            num(s.changes, 0),
            num(s.approved, 0),
            pct(s.approved_by_other_org_share),
            num(s.rework_cycles_per_change, 2),
        ]
        for org, s in rv.by_org.items()
    ]
    pairs = [
        [p.author_org, p.reviewer_org, num(p.reviews, 0), dur(p.median_hours), dur(p.p90_hours)] for p in rv.latency
    ]
    return Block(
        "Reviews on the code host",
        [
            f"{pct(rv.approved_by_other_org_share)} of {rv.changes} merged pull/merge requests were approved by a "
            "person of another organisation (bots and agents never review).",
            *rv.reasons.values(),
        ],
        [
            Table("Approvals by author org", ["Org", "Merged", "Approved", "By another org", "Rework cycles"], rows),
            Table("Time to first review, by pair", ["Author org", "Reviewer org", "Reviews", "Median", "p90"], pairs),
        ],
    )


def _failures(f: Flow) -> Block:
    fl = f.failures
    assert fl is not None
    rows = []
    for org, x in [("all", fl.overall), *fl.by_org.items()]:
        t = x.time_to_restore_hours
        rows.append(
            [org, num(x.deployments, 0), num(x.failed_deployments, 0), pct(x.change_failure_rate), dur(t.median),
             num(t.open, 0)]
        )  # fmt: skip
    return Block(
        "Failures from deployment statuses and incidents",
        [f"Per organisation of the causing change: {fl.attribution}."],
        [
            Table(
                "Change failure rate and time to restore", ["Org", "Deploys", "Failed", "CFR", "Restore", "Open"], rows
            )
        ],
    )


def _backlog(f: Flow) -> Block:
    b = f.backlog
    assert b is not None
    rows = [[org, num(s.changes, 0), num(s.traced, 0), pct(s.traced_share)] for org, s in b.by_org.items()]
    lines = [
        f"{pct(b.traced_share)} of {b.changes} merged changes are traced to the shared tracker (issue references, "
        f"keys matching {b.key_pattern}).",
        *b.reasons.values(),
    ]
    lines += [f"untraced: #{u.number} {u.title} ({u.author}, {u.org})" for u in b.untraced[:LISTED]]
    if len(b.untraced) > LISTED:
        lines.append(f"… and {len(b.untraced) - LISTED} more untraced (--format json lists them all)")
    return Block("One backlog", lines, [Table("Traced to the tracker", ["Org", "Merged", "Traced", "Share"], rows)])


def _agents(f: Flow) -> Block:
    a = f.agents
    assert a is not None
    lines = [f"{a.changes} agent-authored changes merged, {a.human_reviewed} approved by a human reviewer."]
    rows = [
        [f"#{x.number}", x.agent, x.started_by.key if x.started_by else "–", x.accountable_org,
         ", ".join(w.key for w in x.human_reviewers) or "none"]
        for x in a.list[:LISTED]
    ]  # fmt: skip
    tables = [Table("Agent changes", ["Change", "Agent", "Started by", "Accountable org", "Human reviewers"], rows)]
    return Block("AI agents", lines, tables if rows else [])
