"""Changes: pull requests opened, worked on and merged (squashed or kept), pushes to main, and the
failures some of them cause, each reverted or fixed forward later, all in each organisation's style."""

from __future__ import annotations

from onebar.demo import content as C
from onebar.demo.cast import BY_ID, DEPENDABOT_SIGNOFF, PEOPLE, Member
from onebar.demo.core import MAIN, Branch, Core, Failure
from onebar.demo.vocabulary import BODIES, FOLLOW_UPS, REASONS, TOPICS

SHARED_AREAS = ("core", "api", "search", "web", "infra", "docs")  # the importer is Erik's alone


class Changes(Core):
    def _choose_area(self, who: Member) -> str:
        rng = self.rng
        if who.areas and (rng.random() < 0.85 or who.org in ("vistula", "freelance")):
            return rng.choice(who.areas)
        return rng.choice(SHARED_AREAS)

    # --- pull requests ---------------------------------------------------------------------------

    def _open(self, who: Member, kind: str) -> None:
        rng = self.rng
        style = who.style
        if not self.free_slots or sum(1 for b in self.branches if b.author.org == who.org) >= style.max_open:
            return
        area = self._choose_area(who)
        edits = self._free_files(area, rng.randint(*style.files))
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
        planned = max(1, min(rng.randint(*style.commits), self._left() // 2 or 1))
        b = Branch(slot, name, who, title, area, planned, self.pr, self.tip, kind, requester)
        b.squash = rng.random() < style.squash
        b.overlay = dict.fromkeys(deletes)
        b.edits = edits
        b.locks = edits + deletes
        self._lock(b.locks)
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
            pkg = pkg.strip('"')
            title, name = f"chore(deps): update dependency {pkg} to v{new}", f"renovate/{pkg}-{new}"
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

    def _branch_commit(self, b: Branch) -> None:
        """One more commit of the pull request; a squashed one is only written when it is merged."""
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
        b.done += 1
        if b.done >= b.planned and self.by_author.get(b.author.id) is b:
            del self.by_author[b.author.id]  # finished: its author may open another
        if b.squash:
            b.marks.append((0, subject))
            return
        trailers: list[str] = []
        if b.requester is not None:
            trailers.append(f"Co-authored-by: {b.requester.name} <{b.requester.email}>")
        body_text = rng.choice(BODIES) if rng.random() < 0.3 else None
        message = self._message(subject, body_text, self._trailers(b.author, trailers))
        b.tip = self._emit(f"refs/demo/slot{b.slot}", b.author, message, changes, frm=self.tip if b.done == 1 else None)
        if b.done == 1:
            b.base = self.tip
        b.marks.append((b.tip, subject))

    def _reviews(self, b: Branch, merger: Member) -> list[str]:
        """Reviewed-by trailers at the rate of the author's organisation (none for dependency bumps)."""
        rng = self.rng
        if b.kind == "deps" or rng.random() >= b.author.style.review:
            return []
        first = b.requester if b.requester is not None and rng.random() < 0.5 else self._reviewer(b.author)
        reviewers = [first]
        if rng.random() < 0.25:
            reviewers.append(self._reviewer(b.author, (first.id,)))
        return [f"Reviewed-by: {r.name} <{r.email}>" for r in reviewers]

    def _merge(self, b: Branch, merger: Member) -> None:
        rng = self.rng
        self.branches.remove(b)
        self.free_slots.append(b.slot)
        if self.by_author.get(b.author.id) is b:
            del self.by_author[b.author.id]
        trailers = self._reviews(b, merger)
        changes = list(b.overlay.items())
        fails = b.kind != "deps" and rng.random() < b.author.style.fail and self._left() >= 3
        pre = {p: (self._copy(self.main[p]) if p in self.main else None) for p, _ in changes} if fails else {}
        parent = self.tip
        if b.squash:
            if b.requester is not None:
                trailers.append(f"Co-authored-by: {b.requester.name} <{b.requester.email}>")
            bullets = "\n".join(f"* {s}" for _, s in b.marks[1:]) or None
            message = self._message(f"{b.title} (#{b.pr})", bullets, self._trailers(b.author, trailers))
            self.tip = self._emit(MAIN, b.author, message, changes, committer=BY_ID["web-flow"])
            named, named_subject, merge_parent = self.tip, f"{b.title} (#{b.pr})", None
        else:
            owner = b.author.org if b.author.org not in ("", "freelance") else (b.author.github or b.author.id)
            web = b.author.org != "vistula" and rng.random() < 0.7
            if web:
                message = self._message(f"Merge pull request #{b.pr} from {owner}/{b.name}", b.title, trailers)
            else:
                message = self._message(f"Merge branch '{b.name}'", None, trailers)
            committer = BY_ID["web-flow"] if web else None
            self.tip = self._emit(MAIN, merger, message, changes, merge=b.tip, committer=committer)
            named, named_subject = rng.choice(b.marks)
            merge_parent = parent
        for path, body in changes:
            self._apply(path, body)
        self._unlock(b.locks)
        self.recent += [s for _, s in b.marks[:1]]
        if fails:
            subject = message.split("\n", 1)[0]
            self._schedule_failure(self.tip, merge_parent, named, named_subject, subject, b.author, b.area, pre)

    def _direct(self, who: Member, body: str | None = None, area: str | None = None) -> None:
        """A commit pushed straight to main (or a hand-over after a contract's end)."""
        rng = self.rng
        if area is not None:
            paths = self._free_files(area, 1)
            subject = self._subject(who, area, "Document")
        elif who.id == "tom" and rng.random() < 0.03:
            area = "vendor"
            paths = self._free_files(area, len(self.areas[area]))
            subject = f"Update vendored minijson to 2.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
        else:
            area = self._choose_area(who)
            paths = self._free_files(area, rng.randint(1, 2))
            subject = self._subject(who, area)
        if not paths:
            return
        fails = rng.random() < who.style.fail and self._left() >= 2 and body is None
        pre: dict[str, C.Content | None] = {p: self._copy(self.main[p]) for p in paths} if fails else {}
        changes: list[tuple[str, C.Content | None]] = []
        for path in paths:
            lines = self._lines(path)
            C.edit(lines, path[path.rfind(".") :], rng)
            changes.append((path, lines))
        body = body or (rng.choice(BODIES) if rng.random() < 0.2 else None)
        self.tip = self._emit(MAIN, who, self._message(subject, body, self._trailers(who)), changes)
        for path, content in changes:
            self._apply(path, content)
        self.recent.append(subject)
        if fails:
            self._schedule_failure(self.tip, None, self.tip, subject, subject, who, area, pre)

    # --- failures --------------------------------------------------------------------------------

    def _schedule_failure(
        self,
        mark: int,
        parent: int | None,
        named: int,
        named_subject: str,
        subject: str,
        author: Member,
        area: str,
        pre: dict[str, C.Content | None],
    ) -> None:
        """The change `mark` failed in production: revert it, or fix it forward, after its style's delay."""
        revert = self.rng.random() < author.style.revert
        due = self.counts.commits + self.rng.randint(*author.style.restore)
        if revert:
            self._ask(mark)
            if parent is not None:
                self._ask(parent)
            self._lock(list(pre))
            failure = Failure(due, "revert", mark, parent, named, subject, author, area, pre)
        else:
            self._ask(named)
            failure = Failure(due, "fix", mark, None, named, named_subject, author, area, {})
        self.failures.append(failure)
        self.failures.sort(key=lambda f: f.due)
        self.fi.flush()  # the sha is needed a few commits from now: let fast-import answer meanwhile
        self._ask(named)
        self.failed.append((named, named_subject))
        if len(self.failed) > 20:
            self._release(self.failed.pop(0)[0])

    def _remediate(self, f: Failure) -> None:
        own = f.author.human and f.author.style.own_fix and self._in_contract(f.author, self.t)
        who = f.author if own else BY_ID["li" if f.area == "billing" else "maria"]
        if f.kind == "revert":
            self._revert(f, who)
        else:
            self._fix_forward(f, who)

    def _revert(self, f: Failure, who: Member) -> None:
        body = f"This reverts commit {self.fi.sha(f.mark)}"
        if f.parent is not None:
            body += f", reversing\nchanges made to {self.fi.sha(f.parent)}"
            self._release(f.parent)
        self._release(f.mark)
        message = f'Revert "{f.subject}"\n\n{body}.\n\n{self.rng.choice(REASONS)}\n'
        changes = [(p, body_) for p, body_ in f.pre.items() if body_ is not None or p in self.main]
        self.tip = self._emit(MAIN, who, message, changes)
        for path, content in changes:
            self._apply(path, content)
        self._unlock(list(f.pre))
        self.counts.reverts += 1

    def _fix_forward(self, f: Failure, who: Member) -> None:
        rng = self.rng
        area = f.area if self.areas.get(f.area) else "core"
        paths = self._free_files(area, 1) or self._free_files("core", 1)
        trailer = self._fixes(f.named, f.subject)
        self._release(f.named)
        if not paths:
            return
        lines = self._lines(paths[0])
        C.edit(lines, paths[0][paths[0].rfind(".") :], rng)
        subject = f"Fix {rng.choice(TOPICS[area])} regression"
        message = self._message(subject, rng.choice(REASONS), self._trailers(who, [trailer]))
        self.tip = self._emit(MAIN, who, message, [(paths[0], lines)], committer=BY_ID["web-flow"])
        self._apply(paths[0], lines)
