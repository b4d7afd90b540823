"""The demo's history, simulated and streamed into `git fast-import`.

At each tick of the clock someone at work acts in their organisation's style (cast.STYLES): opens a
pull request, adds to one, merges a ready one, or pushes to main; the deploy train, hotfixes,
failures being reverted or fixed, a vendor's sprint ends and a hand-over after a contract's end are
scheduled on top. Same seed, same history, down to the shas.
"""

from __future__ import annotations

from onebar.demo import content as C
from onebar.demo.cast import BY_ID, Member, mailmap
from onebar.demo.changes import Changes
from onebar.demo.charter import render_charter
from onebar.demo.core import DAY, END_TS, MAIN, Branch
from onebar.demo.releases import Releases
from onebar.demo.stream import FastImport


class Simulation(Changes, Releases):
    """One simulated history written to `fi`; call `run()` once."""

    def __init__(self, fi: FastImport, commits: int, seed: int) -> None:
        super().__init__(fi, commits, seed)
        self._init_releases()
        # Hand-over notes ten days after a contract ends inside the history (for `onebar access review`).
        self.post_contract = sorted(
            (w[1] + 10 * DAY, pid)
            for pid, w in self.windows.items()
            if w and w[1] + 10 * DAY < END_TS and BY_ID[pid].can_merge
        )[:1]
        # The vendor merges its finished batches on the last day of each two-week sprint, a Thursday.
        first = self.start + 7 * DAY
        self.sprint = first - first % DAY + ((3 - (first // DAY + 3) % 7) % 7) * DAY

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

    def _initial(self) -> None:
        rng = self.rng
        tree: dict[str, C.Content] = {}
        for area, (_base, _exts) in C.AREA_DIRS.items():
            if area == "importer":
                continue  # Erik writes the importer from scratch: nobody else ever knows it
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

    def _scheduled(self) -> None:
        if self.t >= self.next_release:
            self._release_tag()
        if self.hotfixes and self.t >= self.hotfixes[0].at:
            h = self.hotfixes.pop(0)
            if self._left() >= 2:
                self._hotfix(h)
            elif h.fixes_mark is not None:
                self._release(h.fixes_mark)
        if self.failures and self.counts.commits >= self.failures[0].due and self._left() >= 1:
            self._remediate(self.failures.pop(0))
        if self.post_contract and self.t >= self.post_contract[0][0] and self._left() >= 1:
            _, pid = self.post_contract.pop(0)
            self._direct(BY_ID[pid], body="Hand-over notes after the end of the engagement.", area="docs")
        if self.t >= self.sprint + DAY:  # the sprint's last day is over
            self.sprint += 14 * DAY

    def _act(self, who: Member) -> None:
        rng = self.rng
        if who.org == "bots":
            self._open_deps(who)
            return
        if who.can_merge:
            ready = [b for b in self.branches if b.done >= b.planned and self._may_merge(b, who)]
            if ready and (rng.random() < 0.7 or len(ready) > 2):
                self._merge(ready[0], who)
                return
        mine = self.by_author.get(who.id)
        if mine is not None:
            self._branch_commit(mine)
            return
        if who.org == "agents":
            self._open(who, kind="agent")
        elif who.org == "acme" and (rng.random() < who.style.direct or len(self.free_slots) < 3):
            self._direct(who)
        else:
            self._open(who, kind="fix" if rng.random() < 0.2 else "feature")

    def _may_merge(self, b: Branch, who: Member) -> bool:
        """Whether `who` merges branch `b` now: in the author's style, at a sprint's end for the vendor."""
        author = b.author
        if author.id == who.id and (author.org == "acme" or not author.style.own_merge):
            return False  # the internal team never merges its own; a vendor's or agency's lead may
        if b.kind == "deps" or not author.human or not author.style.own_merge:
            return who.org == "acme"
        if author.org != who.org:
            return False
        return not author.style.sprint_days or self.t >= self.sprint

    def _finish(self) -> None:
        """Open pull requests stay as branches; the scratch slot refs are deleted."""
        out = [f"reset refs/heads/{b.name}\nfrom :{b.tip}\n\n" for b in self.branches if b.tip]
        out += [f"reset refs/demo/slot{slot}\n\n" for slot in sorted(self.used_slots)]
        self.fi.write("".join(out).encode())
