"""Releases: a deploy train twice every working day, release candidates before each major version, and
hotfix releases branched from a release tag and merged back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from onebar.demo import content as C
from onebar.demo.cast import BY_ID, PEOPLE, Member
from onebar.demo.core import DAY, MAIN, Core, Hotfix
from onebar.demo.vocabulary import TOPICS

TRAIN = ZoneInfo("America/New_York")
TRAIN_HOURS = (11, 16)  # the deploy train leaves at 11:00 and 16:00 New York time, Monday to Friday


class Releases(Core):
    def _init_releases(self) -> None:
        self.release_no = 0
        self.release_ver = (0, 0, 0)
        self.last_release_tip = 0
        self.last_release_t = self.start
        self.next_release = self._next_train(self.start + DAY)
        # Small demos still show every kind of event; long ones a major version every few months.
        self.cycle = max(8, min(120, self.span_days // 2))

    def _next_train(self, after: int) -> int:
        """The next departure of the deploy train after `after` (Unix seconds)."""
        local = datetime.fromtimestamp(after, TRAIN)
        day = local.date()
        while True:
            for hour in TRAIN_HOURS:
                at = datetime(day.year, day.month, day.day, hour, tzinfo=TRAIN)
                if day.weekday() < 5 and at.timestamp() > after:
                    return int(at.astimezone(UTC).timestamp())
            day += timedelta(days=1)

    def _release_tag(self) -> None:
        rng = self.rng
        self.next_release = self._next_train(self.t + 3600)
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
        if self._left() >= 1 and "CHANGELOG.md" not in self.locked:
            changelog = self._lines("CHANGELOG.md")
            day = datetime.fromtimestamp(self.t, UTC).date().isoformat()
            entry = [f"## v{version} ({day})", ""] + [f"- {s}" for s in self.recent[-8:]] + [""]
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
        first_hotfix = self.counts.hotfixes == 0 and not self.hotfixes and self.release_no >= 3
        if (rng.random() < 0.06 or first_hotfix) and self._left() >= 4:
            paths = self._free_files(rng.choice([a for a in C.CODE_AREAS if a != "importer"]), 1)
            if paths:
                fixes, fixes_mark = None, None
                if self.failed:
                    fixes_mark, subject = self.failed.pop(rng.randrange(len(self.failed)))
                    fixes = self._fixes(fixes_mark, subject)
                text = self._lines(paths[0])
                at = self.t + rng.randint(2, 20) * 3600
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
