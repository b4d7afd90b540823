"""The simulation's state and primitives: the clock, who is at work, writing commits, files on main.

The clock walks through the history's span; at each tick someone who is at work (in their own time
zone, inside their contract) acts. Memory stays bounded whatever the length: only the current files
of main (capped per area), the open branches and the marks still to be named are kept. Files a
branch or a pending revert will touch are locked so that every diff is exactly what its commit says.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from onebar.demo import content as C
from onebar.demo.cast import CLAUDE_COAUTHOR, COPILOT_COAUTHOR, PEOPLE, Member, contract_dates
from onebar.demo.stream import FastImport
from onebar.demo.vocabulary import CC_TYPES, TOPICS, VERBS

END_TS = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp())  # fixed so a seed always gives the same shas
DAY = 86400
MAIN = "refs/heads/main"
MAX_OPEN_BRANCHES = 26


@dataclass
class Branch:
    """An open pull request: a scratch ref `refs/demo/slot<N>` until it is merged."""

    slot: int
    name: str
    author: Member
    title: str
    area: str
    planned: int
    pr: int
    base: int
    kind: str = "feature"  # feature | fix | deps | agent
    requester: Member | None = None
    squash: bool = False  # squash-merged: its commits are written as one when it is merged
    tip: int = 0
    done: int = 0
    overlay: dict[str, C.Content | None] = field(default_factory=dict)
    edits: list[str] = field(default_factory=list)  # existing or new text files it keeps editing
    locks: list[str] = field(default_factory=list)
    marks: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Failure:
    """A change on main that failed in production, remediated `due` commits later."""

    due: int  # commit count at which it is reverted or fixed
    kind: str  # revert | fix
    mark: int  # the change on main (a merge or a squashed commit)
    parent: int | None  # the change's first parent, when it is a merge
    named: int  # the commit a Fixes: trailer names (one of the change's own commits)
    subject: str  # subject of the change (revert) or of `named` (fix)
    author: Member
    area: str
    pre: dict[str, C.Content | None]  # contents before the change; None = the change added the file


@dataclass
class Hotfix:
    at: int
    release_mark: int
    version: str
    released: str
    path: str
    text: list[str]
    file_version: int
    fixes: str | None
    fixes_mark: int | None


@dataclass
class Counts:
    commits: int = 0
    merges: int = 0
    reverts: int = 0
    fixes: int = 0
    releases: int = 0
    hotfixes: int = 0
    prereleases: int = 0


class Core:
    """State shared by the simulation's actions (changes.py, releases.py)."""

    def __init__(self, fi: FastImport, commits: int, seed: int) -> None:
        self.fi = fi
        self.n = commits
        self.rng = random.Random(seed)
        self.span_days = min(3650, max(90, commits // 25))
        self.start = END_TS - self.span_days * DAY
        self.t = self.start
        self.counts = Counts()
        self.mark = 0
        self.tip = 0
        self.main: dict[str, C.Content] = {}
        self.version: dict[str, int] = {}
        self.areas: dict[str, list[str]] = {a: [] for a in C.AREA_DIRS}
        self.binaries: list[str] = []
        self.locked: dict[str, int] = {}
        self.branches: list[Branch] = []
        self.by_author: dict[str, Branch] = {}
        self.free_slots = list(range(MAX_OPEN_BRANCHES, 0, -1))
        self.used_slots: set[int] = set()
        self.pr = 0
        self.max_files = 25 + commits // 25000
        self.refs: dict[int, int] = {}  # mark -> users of its asked sha
        self.failures: list[Failure] = []  # pending, by due
        self.failed: list[tuple[int, str]] = []  # recent failed commits a hotfix may name (asked marks)
        self.hotfixes: list[Hotfix] = []
        self.recent: list[str] = []
        self.windows = {p.id: contract_dates(p, self.start, END_TS) for p in PEOPLE}
        self.zones = {p.timezone: ZoneInfo(p.timezone) for p in PEOPLE}
        self.tz: dict[str, str] = {}
        self.bucket = -1
        self.online: list[Member] = []
        self.cum: list[float] = []
        self.wsum = 0.0
        self.wmax = sum(p.weight for p in PEOPLE)
        self.lam = self._calibrate(self.span_days)
        self.first_t = self.t
        self.last_t = self.t
        self.taken = _Taken(self.main, self.locked)

    # --- time and people -------------------------------------------------------------------------

    def _load_bucket(self, bucket: int) -> None:
        """Who is at work during this UTC hour, and every zone's UTC offset then (DST included)."""
        self.bucket = bucket
        ts = bucket * 3600
        when = datetime.fromtimestamp(ts, UTC)
        offsets = {}
        for name, zone in self.zones.items():
            off = zone.utcoffset(when)
            offsets[name] = int(off.total_seconds()) if off else 0
        self.tz = {}
        for name, secs in offsets.items():
            sign = "-" if secs < 0 else "+"
            self.tz[name] = f"{sign}{abs(secs) // 3600:02d}{abs(secs) % 3600 // 60:02d}"
        online, cum, total = [], [], 0.0
        for p in PEOPLE:
            if p.weight <= 0 or not self._in_contract(p, ts):
                continue
            local = ts + offsets[p.timezone]
            weekday = (local // DAY + 3) % 7  # 1970-01-01 was a Thursday
            hour = local % DAY // 3600
            if weekday in p.days and p.hours[0] <= hour < p.hours[1]:
                total += p.weight
                online.append(p)
                cum.append(total)
        self.online, self.cum, self.wsum = online, cum, total

    def _in_contract(self, p: Member, ts: int) -> bool:
        w = self.windows[p.id]
        return w is None or w[0] <= ts < w[1]

    def _calibrate(self, span_days: int) -> float:
        """Candidate ticks per second so that about `n` events fill the span (ticks are thinned by who is online)."""
        samples = [self.start + i * (span_days * DAY // 500) + 1800 for i in range(500)]
        total = 0.0
        for ts in samples:
            self._load_bucket(ts // 3600)
            total += self.wsum
        self.bucket = -1
        share = max(total / len(samples) / self.wmax, 1e-3)
        return self.n * 1.05 / (span_days * DAY * share)

    def _steer(self, since_t: int, since_c: int) -> None:
        """Adjust the tick rate so that the remaining commits end near END_TS (actions vary in commits)."""
        left_t = END_TS - self.t
        if left_t <= DAY or self.t <= since_t:
            return
        observed = (self.counts.commits - since_c) / (self.t - since_t)
        wanted = self._left() / left_t
        self.lam *= min(2.0, max(0.5, wanted / max(observed, 1e-9)))

    def _tick(self) -> None:
        rng = self.rng
        while True:
            self.t += int(rng.expovariate(self.lam)) + 1
            bucket = self.t // 3600
            if bucket != self.bucket:
                self._load_bucket(bucket)
            if rng.random() * self.wmax < self.wsum:
                return

    def _pick(self) -> Member:
        rng = self.rng
        if rng.random() < 0.02:  # someone working late or at the weekend
            humans = [p for p in PEOPLE if p.human and p.in_charter and self._in_contract(p, self.t)]
            return rng.choice(humans)
        return rng.choices(self.online, cum_weights=self.cum)[0]

    def _humans(self, exclude: tuple[str, ...] = ()) -> list[Member]:
        return [p for p in PEOPLE if p.human and p.in_charter and p.id not in exclude and self._in_contract(p, self.t)]

    def _reviewer(self, author: Member, exclude: tuple[str, ...] = ()) -> Member:
        """Someone who reviews `author`'s change: of another organisation at the author's style's rate;
        an agent's changes are always reviewed by the internal team."""
        humans = self._humans((*exclude, author.id))
        if not author.human:
            pool = [p for p in humans if p.org == "acme"]
        else:
            other = self.rng.random() < author.style.cross
            pool = [p for p in humans if (p.org != author.org) == other]
        return self.rng.choice(pool or humans)

    def _merger(self, author: Member) -> Member:
        """Who merges `author`'s pull request: its own organisation's mergers, else the internal team."""
        own = author.human and author.style.own_merge
        pool = [
            p
            for p in PEOPLE
            if p.can_merge and p.id != author.id and self._in_contract(p, self.t) and (p.org == author.org) == own
        ]
        if own and not pool and author.can_merge:
            return author
        return self.rng.choice(pool or [p for p in PEOPLE if p.org == "acme" and p.can_merge])

    # --- writing commits -------------------------------------------------------------------------

    def _ident(self, p: Member, email: str | None = None) -> str:
        return f"{p.name} <{email or p.email}> {self.t} {self.tz.get(p.timezone, '+0000')}"

    def _emit(
        self,
        ref: str,
        author: Member,
        message: str,
        changes: list[tuple[str, C.Content | None]],
        *,
        frm: int | None = None,
        merge: int | None = None,
        committer: Member | None = None,
    ) -> int:
        self.mark += 1
        mark = self.mark
        email = author.aliases[0] if author.aliases and self.rng.random() < 0.1 else None
        msg = message.encode()
        head = (
            f"commit {ref}\nmark :{mark}\nauthor {self._ident(author, email)}\n"
            f"committer {self._ident(committer or author, email if committer is None else None)}\n"
            f"data {len(msg)}\n"
        )
        parts = [head.encode(), msg, b"\n"]
        if frm is not None:
            parts.append(b"from :%d\n" % frm)
        if merge is not None:
            parts.append(b"merge :%d\n" % merge)
        for path, body in changes:
            if body is None:
                parts.append(f"D {path}\n".encode())
            else:
                data = C.serialise(body)
                parts.append(b"M 100644 inline %s\ndata %d\n" % (path.encode(), len(data)))
                parts.append(data)
                parts.append(b"\n")
        parts.append(b"\n")
        self.fi.write(b"".join(parts))
        self.counts.commits += 1
        self.last_t = self.t
        if merge is not None:
            self.counts.merges += 1
        if "\nFixes: " in message:
            self.counts.fixes += 1
        return mark

    def _ask(self, mark: int) -> None:
        if mark not in self.refs:
            self.fi.ask(mark)
        self.refs[mark] = self.refs.get(mark, 0) + 1

    def _release(self, mark: int) -> None:
        left = self.refs.get(mark, 0) - 1
        if left > 0:
            self.refs[mark] = left
        else:
            self.refs.pop(mark, None)
            self.fi.forget(mark)

    def _fixes(self, mark: int, subject: str) -> str:
        return f'Fixes: {self.fi.sha(mark)[:12]} ("{subject}")'

    # --- main-line state -------------------------------------------------------------------------

    def _lock(self, paths: list[str]) -> None:
        for p in paths:
            self.locked[p] = self.locked.get(p, 0) + 1

    def _unlock(self, paths: list[str]) -> None:
        for p in paths:
            left = self.locked[p] - 1
            if left:
                self.locked[p] = left
            else:
                del self.locked[p]

    def _free_files(self, area: str, k: int) -> list[str]:
        """Up to `k` distinct unlocked files of `area`."""
        files = self.areas[area]
        out: list[str] = []
        for _ in range(4 * k):
            if not files or len(out) == k:
                break
            path = self.rng.choice(files)
            if path not in self.locked and path not in out:
                out.append(path)
        return out

    def _apply(self, path: str, body: C.Content | None) -> None:
        """Set main's content of `path` (None deletes), keeping the per-area file lists in step."""
        area = self._area_of(path)
        if body is None:
            if path in self.main:
                del self.main[path]
                if area:
                    files = self.areas[area]
                    i = files.index(path)
                    files[i] = files[-1]
                    files.pop()
                elif path in self.binaries:
                    self.binaries.remove(path)
            return
        if path not in self.main and area:
            self.areas[area].append(path)
        self.main[path] = body
        self.version[path] = self.version.get(path, 0) + 1

    @staticmethod
    def _area_of(path: str) -> str | None:
        """The area whose file list holds `path`; binaries, tests and top-level files belong to none."""
        if path.endswith(".png"):
            return None
        for area, (base, _) in C.AREA_DIRS.items():
            if path.startswith(base + "/"):
                return area
        return "infra" if path == ".github/workflows/ci.yml" else None

    def _lines(self, path: str) -> list[str]:
        """A copy of a text file on main (binary files are never edited line by line)."""
        body = self.main[path]
        assert isinstance(body, list), path
        return list(body)

    @staticmethod
    def _copy(body: C.Content) -> C.Content:
        return body if isinstance(body, bytes) else list(body)

    def _left(self) -> int:
        return self.n - self.counts.commits

    # --- messages --------------------------------------------------------------------------------

    def _subject(self, who: Member, area: str, verb: str | None = None) -> str:
        rng = self.rng
        verb = verb or rng.choice(VERBS)
        topic = rng.choice(TOPICS[area])
        if who.conventional:
            return f"{CC_TYPES.get(verb, 'chore')}({area}): {verb.lower()} {topic}"
        return f"{verb} {topic}"

    def _trailers(self, who: Member, extra: list[str] | None = None) -> list[str]:
        rng = self.rng
        out = list(extra or [])
        if who.human and rng.random() < who.ai_rate:
            out.append(f"Co-authored-by: {CLAUDE_COAUTHOR if rng.random() < 0.6 else COPILOT_COAUTHOR}")
        if who.signoff:
            out.append(f"Signed-off-by: {who.name} <{who.email}>")
        return out

    @staticmethod
    def _message(subject: str, body: str | None, trailers: list[str]) -> str:
        out = subject + "\n"
        if body:
            out += "\n" + body + "\n"
        if trailers:
            out += "\n" + "\n".join(trailers) + "\n"
        return out


class _Taken:
    """Paths that a new file must not reuse: on main, or locked by a branch or a pending revert."""

    def __init__(self, main: dict[str, C.Content], locked: dict[str, int]) -> None:
        self.main, self.locked = main, locked

    def __contains__(self, path: object) -> bool:
        return path in self.main or path in self.locked
