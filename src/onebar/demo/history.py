"""Simulating the demo's history and streaming it into `git fast-import`.

The simulation walks a clock through the history's span. At each tick someone who is at work (in
their own time zone, inside their contract) acts: opens a pull request branch, adds a commit to it,
merges someone else's ready branch with review trailers, or commits straight to main. Weekly release
tags, occasional hotfix branches off a release, reverts and `Fixes:` commits are scheduled on top.

Memory stays bounded whatever the length: only the current files of main (capped per area), the few
open branches and a window of recent commits are kept. Files a branch or a pending revert will touch
are locked so that every diff is exactly the change its commit claims.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from onebar.demo import content as C
from onebar.demo.cast import (
    BY_ID,
    CLAUDE_COAUTHOR,
    COPILOT_COAUTHOR,
    DEPENDABOT_SIGNOFF,
    PEOPLE,
    Member,
    contract_dates,
    mailmap,
    render_charter,
)
from onebar.demo.stream import FastImport

END_TS = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp())  # fixed so a seed always gives the same shas
DAY = 86400
MAIN = "refs/heads/main"
MAX_OPEN_BRANCHES = 8

TOPICS: dict[str, tuple[str, ...]] = {
    "core": (
        "settings loader",
        "event bus",
        "cache layer",
        "retry helper",
        "money type",
        "clock abstraction",
        "logging setup",
        "feature flags",
        "unit of work",
        "domain events",
    ),
    "api": (
        "order endpoints",
        "pagination",
        "rate limiter",
        "auth middleware",
        "error responses",
        "OpenAPI schema",
        "webhook signatures",
        "idempotency keys",
        "API versioning",
        "health checks",
    ),
    "billing": (
        "invoice rounding",
        "VAT rules",
        "refund flow",
        "payment retries",
        "proration",
        "currency conversion",
        "dunning emails",
        "credit notes",
        "tax exemptions",
        "Stripe webhooks",
    ),
    "search": (
        "ranking",
        "query parser",
        "synonyms",
        "index rebuild",
        "facets",
        "typo tolerance",
        "autocomplete",
        "relevance tuning",
        "search analytics",
        "stop words",
    ),
    "importer": (
        "CSV importer",
        "legacy SKU mapping",
        "batch loader",
        "price import",
        "stock sync",
        "supplier feeds",
        "import validation",
    ),
    "web": (
        "checkout page",
        "cart drawer",
        "product grid",
        "dark mode",
        "form validation",
        "image lazy loading",
        "accessibility labels",
        "order history page",
        "address autocomplete",
    ),
    "infra": (
        "CI workflow",
        "Terraform state",
        "staging cluster",
        "Docker image",
        "deploy job",
        "alerting rules",
        "database backups",
        "CDN cache rules",
    ),
    "docs": ("README", "API guide", "runbook", "architecture notes", "onboarding guide", "release process", "glossary"),
    "vendor": ("vendored minijson",),
}
VERBS = (
    "Add",
    "Fix",
    "Refactor",
    "Update",
    "Improve",
    "Handle errors in",
    "Document",
    "Simplify",
    "Speed up",
    "Validate input in",
    "Support retries in",
    "Clean up",
    "Add tests for",
    "Rework",
)
CC_TYPES = {
    "Add": "feat",
    "Fix": "fix",
    "Refactor": "refactor",
    "Document": "docs",
    "Speed up": "perf",
    "Add tests for": "test",
}
FOLLOW_UPS = (
    "Address review comments",
    "Fix failing tests",
    "Rename variables for clarity",
    "Add missing tests",
    "Fix lint",
    "Handle empty input",
    "Update docs",
    "Simplify after review",
)
BODIES = (
    "The previous behaviour was surprising for customers in other currencies.",
    "This keeps the hot path free of allocations.",
    "Follow-up to the discussion in the weekly sync.",
    "Needed by the partner integration.",
    "No behaviour change intended.",
)


@dataclass
class Branch:
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
    tip: int = 0
    done: int = 0
    overlay: dict[str, C.Content | None] = field(default_factory=dict)
    edits: list[str] = field(default_factory=list)  # existing or new text files it keeps editing
    locks: list[str] = field(default_factory=list)
    marks: list[tuple[int, str]] = field(default_factory=list)
    fixes: str | None = None  # a Fixes: trailer for the first commit


@dataclass
class Revert:
    due: int  # commit count at which to revert
    mark: int
    parent: int | None  # first parent, for merges
    subject: str
    author: Member
    pre: dict[str, C.Content | None]  # content before the change; None = the change added the file


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


class History:
    """One simulated history written to `fi`; call `run()` once."""

    def __init__(self, fi: FastImport, commits: int, seed: int) -> None:
        self.fi = fi
        self.n = commits
        self.rng = random.Random(seed)
        span_days = min(3650, max(90, commits // 25))
        self.start = END_TS - span_days * DAY
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
        self.known: deque[tuple[int, str, int]] = deque()
        self.refs: dict[int, int] = {}  # mark -> users of its asked sha
        self.reverts: list[Revert] = []
        self.hotfixes: list[Hotfix] = []
        self.recent: deque[str] = deque(maxlen=8)
        self.release_no = 0
        self.release_ver = (0, 0, 0)
        self.last_release_tip = 0
        self.last_release_t = self.start
        self.next_release = self.start + 7 * DAY
        self.windows = {p.id: contract_dates(p, self.start, END_TS) for p in PEOPLE}
        self.post_contract = [(w[1] + 10 * DAY, pid) for pid, w in self.windows.items() if w and w[1] < END_TS]
        self.zones = {p.timezone: ZoneInfo(p.timezone) for p in PEOPLE}
        self.tz: dict[str, str] = {}
        self.bucket = -1
        self.online: list[Member] = []
        self.cum: list[float] = []
        self.wsum = 0.0
        self.wmax = sum(p.weight for p in PEOPLE)
        self.lam = self._calibrate(span_days)
        self.first_t = self.t
        self.last_t = self.t
        self.taken = _Taken(self.main, self.locked)
        # Small demos still show every kind of event; long ones keep realistic rates.
        self.cycle = max(6, min(26, span_days // 14))
        self.revert_p = 0.01 if commits >= 5000 else 0.025

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
        self.lam *= min(2.0, max(0.5, wanted / observed))

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

    def _colleague(self, author: Member, exclude: tuple[str, ...] = ()) -> Member:
        """A reviewer for `author`'s change: from another organisation with the author's cross-review rate."""
        rng = self.rng
        humans = [
            p
            for p in PEOPLE
            if p.human and p.in_charter and p.id not in exclude and p.id != author.id and self._in_contract(p, self.t)
        ]
        other = rng.random() < author.cross_review or not author.human
        pool = [p for p in humans if (p.org != author.org) == other] or humans
        return rng.choice(pool)

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

    def _remember(self, mark: int, subject: str) -> None:
        """Keep a recent main-line commit that a later Fixes: trailer or hotfix may name."""
        self._ask(mark)
        self.known.append((mark, subject, self.t))
        if len(self.known) > 300:
            self._release(self.known.popleft()[0])

    def _fixes_trailer(self, since: int = 0) -> tuple[str, int] | None:
        candidates = [k for k in self.known if k[2] >= since]
        if not candidates:
            return None
        mark, subject, _ = self.rng.choice(candidates[-60:])
        return f'Fixes: {self.fi.sha(mark)[:12]} ("{subject}")', mark

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

    # --- the initial tree ------------------------------------------------------------------------

    def _initial(self) -> None:
        rng = self.rng
        tree: dict[str, C.Content] = {}
        for area, (_base, _exts) in C.AREA_DIRS.items():
            for _ in range(5 if area in ("vendor", "docs") else 8):
                path = C.new_path(area, rng, tree)
                tree[path] = C.new_text(path, rng)
                test = C.test_path_for(path)
                if area in C.CODE_AREAS and test and rng.random() < 0.6:
                    tree[test] = C.new_text(test, rng)
        tree[".github/workflows/ci.yml"] = [
            "name: CI",
            "on: [push, pull_request]",
            "jobs:",
            "  test:",
            "    runs-on: ubuntu-latest",
        ]
        tree["requirements.txt"] = C.requirements()
        tree["web/package.json"] = C.package_json()
        tree["pyproject.toml"] = ["[project]", 'name = "acme-shop"', 'requires-python = ">=3.11"']
        tree["README.md"] = ["# Acme Shop", "", "The shop's backend, web front end and infrastructure."]
        tree["CHANGELOG.md"] = ["# Changelog", ""]
        tree[".gitignore"] = ["__pycache__/", "*.pyc", "node_modules/", ".venv/"]
        tree[".mailmap"] = mailmap().splitlines()
        tree["onebar.toml"] = render_charter(self.start, END_TS).splitlines()
        for path in ("web/assets/logo.png", "web/assets/hero.png", "docs/img/architecture.png"):
            tree[path] = C.new_binary(rng)
            self.binaries.append(path)
        for path, body in tree.items():
            self._apply(path, body)
        self.t = self.start + 9 * 3600 + 14 * 60
        self._load_bucket(self.t // 3600)
        self.first_t = self.t
        self.tip = self._emit(MAIN, BY_ID["maria"], "Initial commit\n", list(tree.items()))

    # --- actions ---------------------------------------------------------------------------------

    def run(self) -> None:
        self._initial()
        step = max(50, self.n // 100)
        check, since_t, since_c = step, self.t, self.counts.commits
        while self.counts.commits < self.n:
            if self.counts.commits >= check:
                self._steer(since_t, since_c)
                check, since_t, since_c = self.counts.commits + step, self.t, self.counts.commits
            self._tick()
            self._scheduled()
            if self.counts.commits >= self.n:
                break
            self._act(self._pick())
        self._finish()

    def _left(self) -> int:
        return self.n - self.counts.commits

    def _scheduled(self) -> None:
        if self.t >= self.next_release:
            self._release_tag()
        if self.hotfixes and self.t >= self.hotfixes[0].at:
            h = self.hotfixes.pop(0)
            if self._left() >= 2:
                self._hotfix(h)
            elif h.fixes_mark is not None:
                self._release(h.fixes_mark)
        if self.reverts and self.counts.commits >= self.reverts[0].due and self._left() >= 1:
            self._revert(self.reverts.pop(0))
        if self.post_contract and self.t >= self.post_contract[0][0] and self._left() >= 1:
            _, pid = self.post_contract.pop(0)
            self._direct(BY_ID[pid], squash=False, body="Hand-over notes after the end of the engagement.")

    def _act(self, who: Member) -> None:
        rng = self.rng
        if who.org == "bots":
            self._open_deps(who)
            return
        if who.can_merge:
            ready = [b for b in self.branches if b.done >= b.planned and b.author.id != who.id]
            if ready and (rng.random() < 0.6 or len(ready) > 3):
                self._merge(ready[0], who)
                return
        mine = self.by_author.get(who.id)
        if mine is not None:
            if mine.done < mine.planned and rng.random() < 0.8:
                self._branch_commit(mine)
            elif who.human:
                self._direct(who)
            return
        if who.org == "agents":
            self._open(who, kind="agent")
        elif (who.org == "acme" and rng.random() < 0.3) or not self.free_slots:
            self._direct(who)
        else:
            self._open(who, kind="fix" if rng.random() < 0.2 else "feature")

    def _choose_area(self, who: Member) -> str:
        rng = self.rng
        if who.areas and rng.random() < 0.85:
            return rng.choice(who.areas)
        return rng.choice(("core", "api", "billing", "search", "web", "infra", "docs"))

    def _open(self, who: Member, kind: str) -> None:
        rng = self.rng
        if not self.free_slots:
            return
        area = self._choose_area(who)
        edits = self._free_files(area, rng.randint(1, 3))
        deletes: list[str] = []
        if len(self.areas[area]) > 6 and rng.random() < 0.04 and edits:
            deletes.append(edits.pop())
        if (rng.random() < 0.15 or not edits) and len(self.areas[area]) < self.max_files:
            edits.append(C.new_path(area, rng, self.taken))
        if not edits:
            return
        for path in list(edits):
            test = C.test_path_for(path)
            if test and test not in self.locked and test not in edits and rng.random() < 0.5:
                edits.append(test)
        for path in list(deletes):
            test = C.test_path_for(path)
            if test and test in self.main and test not in self.locked:
                deletes.append(test)
        if area == "web" and self.binaries and rng.random() < 0.05 and self.binaries[0] not in self.locked:
            edits.append(self.binaries[0])
        self.pr += 1
        title = self._subject(who, area, "Fix" if kind == "fix" else None)
        slug = "-".join(title.split(": ")[-1].lower().split()[1:4]).replace("'", "")
        requester = None
        if kind == "agent":
            requester = rng.choice([p for p in PEOPLE if p.org == "acme"])
            name = f"{(who.github or who.id).lower()}/{slug}-{self.pr}"
        else:
            name = f"{'fix' if kind == 'fix' else 'feature'}/{self.pr}-{slug}"
        slot = self.free_slots.pop()
        self.used_slots.add(slot)
        b = Branch(
            slot, name, who, title, area, 1 + min(5, int(rng.expovariate(0.7))), self.pr, self.tip, kind, requester
        )
        b.overlay = dict.fromkeys(deletes)
        b.edits = edits
        b.locks = edits + deletes
        self._lock(b.locks)
        if kind == "fix" and rng.random() < 0.6:
            found = self._fixes_trailer()
            if found:
                b.fixes = found[0]
        self.branches.append(b)
        self.by_author[who.id] = b
        self._branch_commit(b)

    def _open_deps(self, bot: Member) -> None:
        rng = self.rng
        path = "requirements.txt" if bot.id == "dependabot" else "web/package.json"
        if not self.free_slots or path in self.locked or self._left() < 2:
            return
        lines = self._lines(path)
        if bot.id == "dependabot":
            i = rng.randrange(len(lines))
            pkg, old = lines[i].split("==")
            new = C.bump(old, rng)
            lines[i] = f"{pkg}=={new}"
            title, name = f"Bump {pkg} from {old} to {new}", f"dependabot/pip/{pkg}-{new}"
            trailers = [f"Signed-off-by: {DEPENDABOT_SIGNOFF}"]
        else:
            i = rng.randrange(4, len(lines) - 2)
            pkg, old = lines[i].strip().split(": ")
            old = old.strip('",^')
            new = C.bump(old, rng)
            lines[i] = lines[i].replace(old, new)
            title, name = (
                f"chore(deps): update dependency {pkg.strip(chr(34))} to v{new}",
                f"renovate/{pkg.strip(chr(34))}-{new}",
            )
            trailers = []
        self.pr += 1
        slot = self.free_slots.pop()
        self.used_slots.add(slot)
        b = Branch(slot, name, bot, title, "infra", 1, self.pr, self.tip, "deps")
        b.locks = [path]
        self._lock(b.locks)
        b.overlay[path] = lines
        body = f"Bumps {title.split()[1]} to {new}." if bot.id == "dependabot" else None
        b.tip = self._emit(
            f"refs/demo/slot{slot}", bot, self._message(title, body, trailers), [(path, lines)], frm=self.tip
        )
        b.done = 1
        b.marks.append((b.tip, title))
        self.branches.append(b)
        self.by_author[bot.id + str(self.pr)] = b

    def _branch_commit(self, b: Branch) -> None:
        rng = self.rng
        changes: list[tuple[str, C.Content | None]] = []
        if b.done == 0:
            changes += [(p, None) for p, body in b.overlay.items() if body is None]
            subject = b.title
        else:
            subject = rng.choice(FOLLOW_UPS) if rng.random() < 0.5 else self._subject(b.author, b.area)
        targets = b.edits if b.done == 0 else rng.sample(b.edits, min(len(b.edits), rng.randint(1, 2)))
        for path in targets:
            body = b.overlay.get(path)
            if body is None:
                if path.endswith(".png"):
                    body = C.new_binary(rng)
                elif path in self.main:
                    body = self._lines(path)
                else:
                    body = C.new_text(path, rng)
            elif isinstance(body, bytes):
                continue
            if isinstance(body, list) and (path in self.main or b.done > 0):
                C.edit(body, path[path.rfind(".") :], rng)
            b.overlay[path] = body
            changes.append((path, body))
        trailers: list[str] = []
        if b.done == 0 and b.fixes:
            trailers.append(b.fixes)
        if b.requester is not None:
            trailers.append(f"Co-authored-by: {b.requester.name} <{b.requester.email}>")
        body_text = rng.choice(BODIES) if rng.random() < 0.3 else None
        message = self._message(subject, body_text, self._trailers(b.author, trailers))
        ref = f"refs/demo/slot{b.slot}"
        b.tip = self._emit(ref, b.author, message, changes, frm=self.tip if b.done == 0 else None)
        # A new branch starts from main's tip; remember it for the merge-base.
        if b.done == 0:
            b.base = self.tip
        b.done += 1
        b.marks.append((b.tip, subject))

    def _merge(self, b: Branch, merger: Member) -> None:
        rng = self.rng
        self.branches.remove(b)
        self.by_author.pop(b.author.id if b.kind != "deps" else b.author.id + str(b.pr), None)
        self.free_slots.append(b.slot)
        reviewers: list[Member] = []
        if b.kind != "deps":
            reviewers.append(self._colleague(b.author, (merger.id,)))
            if rng.random() < 0.3:
                reviewers.append(self._colleague(b.author, (merger.id, reviewers[0].id)))
        trailers = [f"Reviewed-by: {r.name} <{r.email}>" for r in reviewers]
        if b.kind != "deps" and rng.random() < 0.5:
            trailers.append(f"Reviewed-by: {merger.name} <{merger.email}>")
        changes = list(b.overlay.items())
        revert = self._want_revert() and self._left() >= 3
        pre = {p: (self._copy(self.main[p]) if p in self.main else None) for p, _ in changes} if revert else {}
        owner = b.author.org if b.author.org not in ("", "freelance") else (b.author.github or b.author.id)
        if rng.random() < 0.65:
            message = self._message(f"Merge pull request #{b.pr} from {owner}/{b.name}", b.title, trailers)
            committer = BY_ID["web-flow"]
        else:
            message = self._message(f"Merge branch '{b.name}'", None, trailers)
            committer = None
        parent = self.tip
        self.tip = self._emit(MAIN, merger, message, changes, merge=b.tip, committer=committer)
        for path, body in changes:
            self._apply(path, body)
        self._unlock(b.locks)
        for mark, subject in b.marks:
            self.recent.append(subject)
            if rng.random() < 0.12:
                self._remember(mark, subject)
        if revert:
            self._schedule_revert(self.tip, parent, message.split("\n", 1)[0], merger, pre)

    def _want_revert(self) -> bool:
        if self.rng.random() < self.revert_p:
            return True
        return self.counts.reverts == 0 and not self.reverts and self.counts.commits > self.n // 3

    def _lines(self, path: str) -> list[str]:
        """A copy of a text file on main (binary files are never edited line by line)."""
        body = self.main[path]
        assert isinstance(body, list), path
        return list(body)

    @staticmethod
    def _copy(body: C.Content) -> C.Content:
        return body if isinstance(body, bytes) else list(body)

    def _schedule_revert(
        self, mark: int, parent: int | None, subject: str, author: Member, pre: dict[str, C.Content | None]
    ) -> None:
        self._ask(mark)
        if parent is not None:
            self._ask(parent)
        paths = list(pre)
        self._lock(paths)
        due = self.counts.commits + self.rng.randint(1, 25)
        self.reverts.append(Revert(due, mark, parent, subject, author, pre))

    def _revert(self, r: Revert) -> None:
        who = r.author if r.author.human and self._in_contract(r.author, self.t) else BY_ID["maria"]
        sha = self.fi.sha(r.mark)
        body = f"This reverts commit {sha}"
        if r.parent is not None:
            body += f", reversing\nchanges made to {self.fi.sha(r.parent)}"
            self._release(r.parent)
        self._release(r.mark)
        reason = self.rng.choice(
            ("It broke checkout in production.", "Causes flaky failures in CI.", "Customers reported wrong totals.")
        )
        message = f'Revert "{r.subject}"\n\n{body}.\n\n{reason}\n'
        changes = [(p, body_) for p, body_ in r.pre.items() if body_ is not None or p in self.main]
        self.tip = self._emit(MAIN, who, message, changes)
        for path, content in changes:
            self._apply(path, content)
        self._unlock(list(r.pre))
        self.counts.reverts += 1

    def _direct(self, who: Member, squash: bool | None = None, body: str | None = None) -> None:
        """A commit straight on main: a push by an internal engineer, or a squash-merged pull request."""
        rng = self.rng
        if who.id == "tom" and rng.random() < 0.03:
            area = "vendor"
            paths = self._free_files(area, len(self.areas[area]))
            subject = f"Update vendored minijson to 2.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
        else:
            area = self._choose_area(who)
            paths = self._free_files(area, rng.randint(1, 2))
            subject = self._subject(who, area)
        if not paths:
            return
        if squash is None:
            squash = who.org != "acme" or rng.random() < 0.3
        trailers: list[str] = []
        if rng.random() < 0.06 or (self.counts.fixes == 0 and self.counts.commits > self.n // 3):
            found = self._fixes_trailer()
            if found:
                trailers.append(found[0])
                subject = self._subject(who, area, "Fix")
        revert = self._want_revert() and self._left() >= 2
        pre: dict[str, C.Content | None] = {p: self._copy(self.main[p]) for p in paths} if revert else {}
        changes: list[tuple[str, C.Content | None]] = []
        for path in paths:
            lines = self._lines(path)
            C.edit(lines, path[path.rfind(".") :], rng)
            changes.append((path, lines))
        committer = None
        if squash:
            self.pr += 1
            subject += f" (#{self.pr})"
            committer = BY_ID["web-flow"]
            if rng.random() < 0.5:
                trailers.append(f"Reviewed-by: {(r := self._colleague(who)).name} <{r.email}>")
        message = self._message(
            subject, body or (rng.choice(BODIES) if rng.random() < 0.2 else None), self._trailers(who, trailers)
        )
        self.tip = self._emit(MAIN, who, message, changes, committer=committer)
        for path, content in changes:
            self._apply(path, content)
        self.recent.append(subject)
        if rng.random() < 0.12:
            self._remember(self.tip, subject)
        if revert:
            self._schedule_revert(self.tip, None, subject, who, pre)

    # --- releases --------------------------------------------------------------------------------

    def _release_tag(self) -> None:
        rng = self.rng
        self.next_release = self.t + 7 * DAY + rng.randint(-12, 12) * 3600
        if self.tip == self.last_release_tip:
            return
        self.release_no += 1
        major, minor, _ = self.release_ver
        cycle = self.release_no % self.cycle
        manager = BY_ID["maria"] if rng.random() < 0.7 else BY_ID["tom"]
        if cycle >= self.cycle - 2:  # release candidates of the next major version: not deployments
            name = f"v{major + 1}.0.0-rc{cycle - self.cycle + 3}"
            self._tag(name, self.tip, manager, f"Release candidate {name}\n")
            self.counts.prereleases += 1
            return
        version = f"{major + 1}.0.0" if cycle == 0 else f"{major}.{minor + 1}.0"
        self.release_ver = (major + 1, 0, 0) if cycle == 0 else (major, minor + 1, 0)
        if self._left() >= 1:
            changelog = self._lines("CHANGELOG.md")
            day = datetime.fromtimestamp(self.t, UTC).date().isoformat()
            entry = [f"## v{version} ({day})", ""] + [f"- {s}" for s in self.recent] + [""]
            changelog[2:2] = entry
            del changelog[60:]
            self.tip = self._emit(
                MAIN, BY_ID["github-actions"], f"chore(release): v{version}\n", [("CHANGELOG.md", changelog)]
            )
            self._apply("CHANGELOG.md", changelog)
            self.recent.clear()
        if self.release_no <= 3:
            self.fi.write(f"reset refs/tags/v{version}\nfrom :{self.tip}\n\n".encode())  # early lightweight tags
        else:
            self._tag(f"v{version}", self.tip, manager, f"Release v{version}\n")
        self.counts.releases += 1
        self.last_release_tip = self.tip
        first_hotfix = self.counts.hotfixes == 0 and not self.hotfixes and self.release_no >= 2
        if (rng.random() < 0.2 or first_hotfix) and self._left() >= 4:
            paths = self._free_files(rng.choice(C.CODE_AREAS), 1)
            if paths:
                found = self._fixes_trailer(since=self.last_release_t)
                fixes, fixes_mark = (found[0], found[1]) if found else (None, None)
                if fixes_mark is not None:
                    self._ask(fixes_mark)
                text = self._lines(paths[0])
                at = self.t + rng.randint(20, 72) * 3600
                self.hotfixes.append(
                    Hotfix(
                        at,
                        self.tip,
                        f"{version[: version.rfind('.')]}.1",
                        version,
                        paths[0],
                        text,
                        self.version[paths[0]],
                        fixes,
                        fixes_mark,
                    )
                )
        self.last_release_t = self.t

    def _tag(self, name: str, mark: int, tagger: Member, message: str) -> None:
        msg = message.encode()
        head = f"tag {name}\nfrom :{mark}\ntagger {self._ident(tagger)}\ndata {len(msg)}\n".encode()
        self.fi.write(head + msg + b"\n")

    def _hotfix(self, h: Hotfix) -> None:
        rng = self.rng
        self.used_slots.add(0)  # a hotfix is done in one step, so it has a scratch ref of its own
        who = rng.choice([p for p in PEOPLE if p.org == "acme" and p.can_merge])
        C.edit(h.text, h.path[h.path.rfind(".") :], rng)
        area = self._area_of(h.path) or "core"
        subject = f"Fix {rng.choice(TOPICS[area])} crash after v{h.released}"
        trailers = [h.fixes] if h.fixes else []
        message = self._message(subject, "Hotfix for production.", self._trailers(who, trailers))
        mark = self._emit("refs/demo/slot0", who, message, [(h.path, h.text)], frm=h.release_mark)
        self._tag(f"v{h.version}", mark, who, f"Hotfix release v{h.version}\n\nPatch on top of v{h.released}.\n")
        self.counts.hotfixes += 1
        if h.fixes_mark is not None:
            self._release(h.fixes_mark)
        # Merge back; main keeps its own version of the file if it changed since the release.
        changes: list[tuple[str, C.Content | None]] = []
        if h.path in self.main and self.version.get(h.path) == h.file_version and h.path not in self.locked:
            changes.append((h.path, h.text))
        self.tip = self._emit(MAIN, who, f"Merge branch 'hotfix/{h.version}'\n", changes, merge=mark)
        for path, body in changes:
            self._apply(path, body)

    def _finish(self) -> None:
        """Open pull requests stay as branches; the scratch slot refs are deleted."""
        out = [f"reset refs/heads/{b.name}\nfrom :{b.tip}\n\n" for b in self.branches if b.done]
        out += [f"reset refs/demo/slot{slot}\n\n" for slot in sorted(self.used_slots)]
        self.fi.write("".join(out).encode())


class _Taken:
    """Paths that a new file must not reuse: on main, or locked by a branch or a pending revert."""

    def __init__(self, main: dict[str, C.Content], locked: dict[str, int]) -> None:
        self.main, self.locked = main, locked

    def __contains__(self, path: object) -> bool:
        return path in self.main or path in self.locked
