"""Plain data the metrics compute over: no git, no database, no clock.

A `History` is one repository's commits as columns (numpy arrays) indexed by commit number
(0..n-1), so that a 1,000,000-commit history costs a few arrays rather than a million objects. The
report's loader fills it from the store; tests build it with `HistoryBuilder`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from onebar.metrics.jsonable import Jsonable, iso

UNKNOWN_ORG = "(unknown)"

# Kinds of contributor; "human" covers every person of an internal/partner/contractor organisation.
HUMAN, BOT, AGENT, UNKNOWN = "human", "bot", "agent", "unknown"
KINDS = (HUMAN, BOT, AGENT, UNKNOWN)
DAY = 86400


@dataclass(frozen=True, slots=True)
class Contributor:
    """Who a git identity is, as the report counts them: one person (or unknown e-mail) of one organisation."""

    key: str  # charter person id, or the lower-cased e-mail of someone not in the charter
    org: str  # organisation id, or UNKNOWN_ORG
    kind: str  # human, bot, agent, unknown
    label: str  # how to show them


class History:
    """Commits of one repository as columns, oldest first by commit time, indexed 0..n-1.

    Integer columns are numpy arrays, so that a 1,000,000-commit history is a few tens of megabytes
    and the metrics can count a window with array operations. People (authors, committers,
    reviewers) are indexes into `people`. The report's loader builds it from the store;
    `HistoryBuilder` builds one by hand (tests, small callers).
    """

    def __init__(
        self,
        *,
        sha: Sequence[str],
        people: Sequence[Contributor],
        author: np.ndarray,
        committer: np.ndarray,
        authored_at: np.ndarray,
        author_tz: np.ndarray,
        committed_at: np.ndarray,
        parent1: np.ndarray,
        parent2: np.ndarray,
        patch: np.ndarray,
        more_parents: dict[int, tuple[int, ...]] | None = None,
        reverts: dict[int, int] | None = None,
        fixes: dict[int, tuple[int, ...]] | None = None,
        reviewers: dict[int, tuple[Contributor, ...]] | None = None,
        coauthors: dict[int, tuple[Contributor, ...]] | None = None,
        review_links: set[int] | None = None,
        merged_by: np.ndarray | None = None,
        merged_by_head: int | None = None,
    ):
        self.sha = sha  # hex sha per commit
        self.people = list(people)  # person index -> who
        self.author = author  # int32 person index per commit
        self.committer = committer
        self.authored_at = authored_at  # int64 Unix seconds
        self.author_tz = author_tz  # minutes east of UTC
        self.committed_at = committed_at
        self.parent1 = parent1  # int32 index of the first parent, -1 for none (or not stored)
        self.parent2 = parent2  # second parent: a commit is a merge when it has one
        self.patch = patch  # int64, equal for a commit and its cherry-picks (same author, time, subject)
        self.more_parents = more_parents or {}  # octopus merges: their third and later parents
        self.reverts = reverts or {}  # commit -> the commit it reverts
        self.fixes = fixes or {}  # commit -> commits its Fixes: trailers name
        self.reviewers = reviewers or {}  # commit -> Reviewed-by, Acked-by, Tested-by
        self.coauthors = coauthors or {}  # commit -> Co-authored-by
        self.review_links = review_links or set()  # commits a code-review system links (Reviewed-on:)
        # For the head `merged_by_head`: per commit, the mainline commit that brought it in, -1 if not reached.
        self.merged_by = merged_by
        self.merged_by_head = merged_by_head

    def __len__(self) -> int:
        return len(self.committed_at)

    def parents(self, c: int) -> tuple[int, ...]:
        """The commit's known parents, first parent first."""
        a, b = int(self.parent1[c]), int(self.parent2[c])
        if a < 0:
            return ()
        if b < 0:
            return (a,)
        return (a, b, *self.more_parents.get(c, ()))

    def is_merge(self, c: int) -> bool:
        return bool(self.parent2[c] >= 0)

    @cached_property
    def parent_lists(self) -> tuple[list[int], list[int]]:
        """First and second parents as Python lists, for walks that visit commit after commit."""
        return self.parent1.tolist(), self.parent2.tolist()

    @cached_property
    def merges(self) -> np.ndarray:
        """Per commit, whether it is a merge (two or more known parents)."""
        out: np.ndarray = self.parent2 >= 0
        return out

    @cached_property
    def orgs(self) -> list[str]:
        """Organisation ids of the people, each once; `person_org` indexes this list."""
        return sorted({w.org for w in self.people})

    @cached_property
    def person_org(self) -> np.ndarray:
        code = {o: i for i, o in enumerate(self.orgs)}
        return np.array([code[w.org] for w in self.people], dtype=np.int32)

    @cached_property
    def person_key(self) -> np.ndarray:
        """Per person, a code equal for people with the same key (one person seen under two labels)."""
        code: dict[str, int] = {}
        return np.array([code.setdefault(w.key, len(code)) for w in self.people], dtype=np.int32)

    @cached_property
    def person_kind(self) -> np.ndarray:
        """Per person, the index of their kind in KINDS."""
        return np.array([KINDS.index(w.kind) for w in self.people], dtype=np.int8)

    @cached_property
    def org(self) -> np.ndarray:
        """Per commit, the author's organisation (an index into `orgs`)."""
        out: np.ndarray = self.person_org[self.author]
        return out

    def org_code(self, org: str) -> int:
        """The index of `org` in `orgs`; -1 when nobody here belongs to it."""
        i = bisect_left(self.orgs, org)
        return i if i < len(self.orgs) and self.orgs[i] == org else -1


class HistoryBuilder:
    """Builds a History one commit at a time: for tests and small callers."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, tuple[int, ...], int, int, int, int, int, int]] = []
        self.people: list[Contributor] = []
        self._person: dict[Contributor, int] = {}
        self.reverts: dict[int, int] = {}
        self.fixes: dict[int, tuple[int, ...]] = {}
        self.reviewers: dict[int, tuple[Contributor, ...]] = {}
        self.coauthors: dict[int, tuple[Contributor, ...]] = {}
        self.review_links: set[int] = set()

    def person(self, who: Contributor) -> int:
        i = self._person.get(who)
        if i is None:
            i = self._person[who] = len(self.people)
            self.people.append(who)
        return i

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
        reverts: int = -1,
        patch_id: int | None = None,
        tz: int = 0,
    ) -> int:
        """Append one commit; returns its index. The committer is the author unless given."""
        i = len(self.rows)
        a = self.person(Contributor(author, org, kind, author))
        if committer is None:
            c = a
        else:
            c = self.person(Contributor(committer, committer_org or org, committer_kind or HUMAN, committer))
        when = committed_at if committed_at is not None else at
        self.rows.append((sha, parents, a, c, at, tz, when, i if patch_id is None else patch_id))
        if reverts >= 0:
            self.reverts[i] = reverts
        return i

    def build(self) -> History:
        rows = self.rows
        more = {i: r[1][2:] for i, r in enumerate(rows) if len(r[1]) > 2}
        return History(
            sha=[r[0] for r in rows],
            people=self.people,
            author=np.array([r[2] for r in rows], dtype=np.int32),
            committer=np.array([r[3] for r in rows], dtype=np.int32),
            authored_at=np.array([r[4] for r in rows], dtype=np.int64),
            author_tz=np.array([r[5] for r in rows], dtype=np.int32),
            committed_at=np.array([r[6] for r in rows], dtype=np.int64),
            parent1=np.array([r[1][0] if r[1] else -1 for r in rows], dtype=np.int32),
            parent2=np.array([r[1][1] if len(r[1]) > 1 else -1 for r in rows], dtype=np.int32),
            patch=np.array([r[7] for r in rows], dtype=np.int64),
            more_parents=more,
            reverts=dict(self.reverts),
            fixes=dict(self.fixes),
            reviewers=dict(self.reviewers),
            coauthors=dict(self.coauthors),
            review_links=set(self.review_links),
        )


@dataclass(frozen=True)
class Deployment:
    """A deployment: a release tag or a recorded event, of one commit at one time."""

    name: str
    commit: int  # index into History; -1 when the deployed commit is unknown to the store
    at: int
    source: str = "tag"  # "tag" or the event source ("cli", "api", "github", ...)
    environment: str = "production"
    hotfix: bool = False
    failed_at: int | None = None  # when a failed deployment status was recorded for it, if one was


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


def median(values: Sequence[float] | np.ndarray) -> float | None:
    return quantile(values, 0.5)


def quantile(values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not len(values):
        return None
    s = np.sort(np.asarray(values, dtype=np.float64))
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    a, b = float(s[lo]), float(s[hi])
    return a + (b - a) * (pos - lo)
