"""Flow metrics from code-host data: lead time by stage, reviews, failures, one backlog, agents.

Pure functions over `Change` records (a pull/merge request with its reviews, resolved to people,
organisations and kinds, and the time its merge first reached production), returning typed
results (`to_json()` is the report's `flow` section). The report's loader (`onebar.report.flow`)
builds the records from the store; docs/metrics.md ("Code-host metrics") states each definition
and where it comes from. Bots and AI agents never count as reviewers.

    changes    the records (`Change`, `Review`, `Who`), human reviews and approvers
    stages     lead time by stage          reviews    the review matrix, latency, rework
    failures   failure rate, restore       backlog    one backlog: traced and untraced changes
    agents     agent-authored changes      here       the section (`Flow`) that holds them all
"""

from __future__ import annotations

from dataclasses import dataclass, field

from onebar.metrics.flow.agents import AGENT_LABEL, AgentChange, Agents, OrgAgents, agent_change, agents
from onebar.metrics.flow.backlog import Backlog, OrgTrace, Untraced, backlog
from onebar.metrics.flow.changes import (
    HOUR,
    NONE_MERGED,
    Change,
    Review,
    Who,
    approvers,
    human_reviews,
    merged_in,
    rounded,
)
from onebar.metrics.flow.failures import FailureFigures, Failures, HostDeployment, HostIncident, Restore, failures
from onebar.metrics.flow.reviews import OrgReviews, PairLatency, PullReviews, review_matrix, rework_cycles
from onebar.metrics.flow.stages import STAGES, Hours, LeadTime, Stages, lead_time, stages
from onebar.metrics.jsonable import OMIT_NONE, Jsonable
from onebar.metrics.model import Window


@dataclass(frozen=True, slots=True)
class Flow(Jsonable):
    """The report's code-host section: every part when the store has code-host data for the
    repository, else `available: false` and the reason."""

    available: bool
    reason: str | None = field(default=None, metadata=OMIT_NONE)
    sources: tuple[str, ...] = ()  # host repositories that fed it ("github:acme/shop")
    lead_time_stages: LeadTime | None = field(default=None, metadata=OMIT_NONE)
    reviews: PullReviews | None = field(default=None, metadata=OMIT_NONE)
    failures: Failures | None = field(default=None, metadata=OMIT_NONE)
    backlog: Backlog | None = field(default=None, metadata=OMIT_NONE)
    agents: Agents | None = field(default=None, metadata=OMIT_NONE)


def section(
    sources: list[str],
    changes: list[Change],
    deployments: list[HostDeployment],
    incidents: list[HostIncident],
    window: Window,
    key_pattern: str,
) -> Flow:
    """Every flow figure of a window from resolved code-host records."""
    return Flow(
        available=True,
        sources=tuple(sources),
        lead_time_stages=lead_time(changes, window),
        reviews=review_matrix(changes, window),
        failures=failures(changes, deployments, incidents, window),
        backlog=backlog(changes, window, key_pattern, {c.number for c in changes}),
        agents=agents(changes, window),
    )


__all__ = [
    "AGENT_LABEL",
    "HOUR",
    "NONE_MERGED",
    "STAGES",
    "AgentChange",
    "Agents",
    "Backlog",
    "Change",
    "FailureFigures",
    "Failures",
    "Flow",
    "HostDeployment",
    "HostIncident",
    "Hours",
    "LeadTime",
    "OrgAgents",
    "OrgReviews",
    "OrgTrace",
    "PairLatency",
    "PullReviews",
    "Restore",
    "Review",
    "Stages",
    "Untraced",
    "Who",
    "agent_change",
    "agents",
    "approvers",
    "backlog",
    "failures",
    "human_reviews",
    "lead_time",
    "merged_in",
    "review_matrix",
    "rework_cycles",
    "rounded",
    "section",
    "stages",
]
