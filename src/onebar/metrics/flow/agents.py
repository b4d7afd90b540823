"""Changes authored by AI agents: the agent, the human who started or assigned it, the accountable
organisation and the human reviewers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onebar.metrics.flow.changes import (
    Change,
    Who,
    approvers,
    merged_in,
)
from onebar.metrics.jsonable import Jsonable
from onebar.metrics.model import AGENT, HUMAN, UNKNOWN_ORG, Window

AGENT_LABEL = re.compile(r"(?i)\b(ai|agent|copilot|claude|codex|devin|cursor|ai-generated)\b")


@dataclass(frozen=True)
class AgentChange(Jsonable):
    """An agent-authored change: the agent, the human who started it, who is accountable, who reviewed."""

    number: int
    title: str
    agent: str
    signal: str  # author, coauthor, label
    started_by: Who | None
    accountable_org: str
    human_reviewers: tuple[Who, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "agent": self.agent,
            "signal": self.signal,
            "started_by": self.started_by.key if self.started_by else None,
            "accountable_org": self.accountable_org,
            "human_reviewers": [w.key for w in self.human_reviewers],
            "human_reviewed": bool(self.human_reviewers),
        }


def agent_change(c: Change) -> AgentChange | None:
    """The agent, the human who started it and the accountable organisation of an agent-authored change."""
    if c.author.kind == AGENT:
        agent, signal = c.author.key, "author"
        starter = next((w for w in c.assignees if w.kind == HUMAN), None)
    elif any(w.kind == AGENT for w in c.coauthors):
        agent, signal = next(w.key for w in c.coauthors if w.kind == AGENT), "coauthor"
        starter = c.author if c.author.kind == HUMAN else None
    elif any(AGENT_LABEL.search(lb) for lb in c.labels):
        agent, signal = next(lb for lb in c.labels if AGENT_LABEL.search(lb)), "label"
        starter = c.author if c.author.kind == HUMAN else next((w for w in c.assignees if w.kind == HUMAN), None)
    else:
        return None
    accountable = starter.org if starter is not None else UNKNOWN_ORG
    reviewers = tuple(w for w in approvers(c) if starter is None or w.key != starter.key)
    return AgentChange(c.number, c.title, agent, signal, starter, accountable, reviewers)


@dataclass(frozen=True, slots=True)
class OrgAgents(Jsonable):
    changes: int
    human_reviewed: int


@dataclass(frozen=True, slots=True)
class Agents(Jsonable):
    """Agent-authored changes merged in the window, per accountable organisation, and each of them."""

    changes: int
    human_reviewed: int
    by_org: Mapping[str, OrgAgents]
    list: tuple[AgentChange, ...]


def agents(changes: list[Change], window: Window) -> Agents:
    """Agent-authored changes merged in the window, with who is accountable and who reviewed them."""
    found = [a for c in merged_in(changes, window) if (a := agent_change(c)) is not None]
    counts: dict[str, list[int]] = {}
    for a in found:
        s = counts.setdefault(a.accountable_org, [0, 0])
        s[0] += 1
        s[1] += 1 if a.human_reviewers else 0
    return Agents(
        changes=len(found),
        human_reviewed=sum(1 for a in found if a.human_reviewers),
        by_org={o: OrgAgents(n, r) for o, (n, r) in sorted(counts.items())},
        list=tuple(found),
    )
