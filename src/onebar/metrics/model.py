"""Plain data the metrics compute over: no git, no database, no clock.

A `History` is one repository's commits as parallel arrays indexed by commit number (0..n-1), so
that a 100,000-commit history costs a few lists rather than 100,000 objects. The report's loader
fills it from the store; tests build it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from onebar.metrics.jsonable import Jsonable, iso

UNKNOWN_ORG = "(unknown)"

# Kinds of contributor; "human" covers every person of an internal/partner/contractor organisation.
HUMAN, BOT, AGENT, UNKNOWN = "human", "bot", "agent", "unknown"
DAY = 86400


@dataclass(frozen=True, slots=True)
class Contributor:
    """Who a git identity is, as the report counts them: one person (or unknown e-mail) of one organisation."""

    key: str  # charter person id, or the lower-cased e-mail of someone not in the charter
    org: str  # organisation id, or UNKNOWN_ORG
    kind: str  # human, bot, agent, unknown
    label: str  # how to show them


@dataclass
class History:
    """Commits of one repository, oldest first by commit time (any order works for the metrics)."""

    sha: list[str] = field(default_factory=list)
    parents: list[tuple[int, ...]] = field(default_factory=list)  # known parents, first parent first
    author: list[str] = field(default_factory=list)  # person key: charter id, or e-mail when unknown
    org: list[str] = field(default_factory=list)  # author's organisation id, or UNKNOWN_ORG
    kind: list[str] = field(default_factory=list)  # author's kind: human, bot, agent, unknown
    committer: list[str] = field(default_factory=list)
    committer_org: list[str] = field(default_factory=list)
    committer_kind: list[str] = field(default_factory=list)
    authored_at: list[int] = field(default_factory=list)
    author_tz: list[int] = field(default_factory=list)  # minutes east of UTC
    committed_at: list[int] = field(default_factory=list)
    subject: list[str] = field(default_factory=list)
    reverts: list[int] = field(default_factory=list)  # index of the reverted commit, -1 if none
    fixes: dict[int, tuple[int, ...]] = field(default_factory=dict)  # commit -> commits its Fixes: names
    reviewers: dict[int, tuple[Contributor, ...]] = field(default_factory=dict)  # Reviewed-by and the like
    coauthors: dict[int, tuple[Contributor, ...]] = field(default_factory=dict)  # Co-authored-by
    patch_id: list[int] = field(default_factory=list)  # same value for a commit and its cherry-picks

    def __len__(self) -> int:
        return len(self.sha)

    def add(
        self,
        sha: str,
        parents: tuple[int, ...] = (),
        *,
        author: str,
        org: str,
        at: int,
        kind: str = HUMAN,
        committer: str | None = None,
        committer_org: str | None = None,
        committer_kind: str | None = None,
        committed_at: int | None = None,
        subject: str = "",
        reverts: int = -1,
        patch_id: int | None = None,
    ) -> int:
        """Append one commit (for tests and small callers); returns its index."""
        i = len(self.sha)
        self.sha.append(sha)
        self.parents.append(parents)
        self.author.append(author)
        self.org.append(org)
        self.kind.append(kind)
        self.committer.append(committer or author)
        self.committer_org.append(committer_org or org)
        self.committer_kind.append(committer_kind or (kind if committer is None else HUMAN))
        self.authored_at.append(at)
        self.author_tz.append(0)
        self.committed_at.append(committed_at if committed_at is not None else at)
        self.subject.append(subject)
        self.reverts.append(reverts)
        self.patch_id.append(i if patch_id is None else patch_id)
        return i

    def is_merge(self, i: int) -> bool:
        return len(self.parents[i]) > 1


@dataclass(frozen=True)
class Deployment:
    """A deployment: a release tag or a recorded event, of one commit at one time."""

    name: str
    commit: int  # index into History; -1 when the deployed commit is unknown to the store
    at: int
    source: str = "tag"  # "tag" or the event source ("cli", "api", "github", ...)
    environment: str = "production"
    hotfix: bool = False


@dataclass(frozen=True)
class Incident:
    title: str
    started_at: int
    resolved_at: int | None
    deployment_ref: str | None = None  # name, ref or sha of the deployment it is attributed to


@dataclass(frozen=True)
class Window(Jsonable):
    """A half-open time window [since, until) in Unix seconds."""

    since: int
    until: int

    @property
    def weeks(self) -> float:
        return max(self.until - self.since, 1) / (7 * DAY)

    @property
    def days(self) -> float:
        return round((self.until - self.since) / DAY, 2)

    def __contains__(self, t: int) -> bool:
        return self.since <= t < self.until

    def to_json(self) -> dict[str, object]:
        return {"since": iso(self.since), "until": iso(self.until), "days": self.days}


def median(values: list[float]) -> float | None:
    return quantile(values, 0.5)


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)
