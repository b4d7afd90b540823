"""The records flow metrics read: a pull/merge request (`Change`) with its reviews, resolved to people,
organisations and kinds; who reviewed it (humans only) and who approved it."""

from __future__ import annotations

from dataclasses import dataclass, field

from onebar.metrics.model import HUMAN, Window

HOUR = 3600.0
NONE_MERGED = "no pull/merge request merged in the window"


@dataclass(frozen=True)
class Who:
    key: str  # charter person id, or the host login when the charter does not know it
    org: str
    kind: str  # human, bot, agent, unknown


@dataclass(frozen=True)
class Review:
    by: Who
    state: str  # approved, changes_requested, commented, dismissed
    at: int


@dataclass
class Change:
    """One pull/merge request, resolved."""

    number: int
    title: str
    author: Who
    opened_at: int
    first_commit_at: int | None = None
    ready_at: int | None = None  # when it last left draft (None: never a draft)
    draft_seconds: int = 0
    merged_at: int | None = None
    closed_at: int | None = None
    deployed_at: int | None = None  # first production deployment containing its merge
    reviews: list[Review] = field(default_factory=list)
    refs: list[tuple[str, str]] = field(default_factory=list)  # (ref, kind): ("#12", "issue"), ("PAY-1", "key")
    labels: list[str] = field(default_factory=list)
    assignees: list[Who] = field(default_factory=list)
    coauthors: list[Who] = field(default_factory=list)
    merge_sha: str | None = None  # the commit that brought it into the base branch (merge or squash)


def human_reviews(c: Change) -> list[Review]:
    """Reviews by humans other than the author, in time order (bots and agents never review)."""
    return sorted((r for r in c.reviews if r.by.kind == HUMAN and r.by.key != c.author.key), key=lambda r: r.at)


def approvers(c: Change) -> list[Who]:
    """Humans whose latest review state is an approval (a dismissal or a later change request cancels it)."""
    last: dict[str, Review] = {}
    for r in human_reviews(c):
        if r.state in ("approved", "changes_requested", "dismissed"):
            last[r.by.key] = r
    return [r.by for r in last.values() if r.state == "approved"]


def merged_in(changes: list[Change], window: Window) -> list[Change]:
    return [c for c in changes if c.merged_at is not None and c.merged_at in window]


def rounded(x: float | None, d: int = 2) -> float | None:
    """`x` to `d` decimals, None kept (figures in hours)."""
    return None if x is None else round(x, d)
