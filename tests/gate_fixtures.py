"""Shared material for the gate's tests: a two-organisation charter and builders of plain data."""

from __future__ import annotations

import json
from pathlib import Path

from onebar.charter import Charter, parse_charter
from onebar.gate.model import Change, Evidence, FileChange, Participant, Review

ALICE = ("Alice Example", "alice@acme.test")
PAT = ("Pat Partner", "pat@partner.test")

CHARTER = """\
version = 1

[project]
name = "demo"

[organisations.acme]
kind = "internal"
domains = ["acme.test"]
lead = "alice"

[organisations.partner]
kind = "partner"
domains = ["partner.test"]
lead = "pat"

[organisations.bots]
kind = "agent"
domains = ["agent.test"]

[people.alice]
name = "Alice Example"
org = "acme"
emails = ["alice@acme.test"]
github = "alice-gh"

[people.bob]
name = "Bob Builder"
org = "acme"
emails = ["bob@acme.test"]
github = "bob-gh"

[people.pat]
name = "Pat Partner"
org = "partner"
emails = ["pat@partner.test"]
github = "pat-gh"

[people.quinn]
name = "Quinn Partner"
org = "partner"
emails = ["quinn@partner.test"]
github = "quinn-gh"

[people.robo]
name = "Robo Agent"
org = "bots"
emails = ["robo@agent.test"]
github = "robo-gh"

[components.core]
paths = ["src/**"]
accountable = "alice"
responsible = ["quinn"]

[components.storage]
paths = ["src/app/storage/**"]
accountable = "bob"
responsible = ["pat"]
architecture = true
"""


def charter(extra: str = "") -> Charter:
    return parse_charter(CHARTER + extra, "onebar.toml")


def change(*files: FileChange, done: dict[str, object] | None = None) -> Change:
    return Change("b" * 40, "h" * 40, tuple(files), "onebar.toml", done, done)


def fc(path: str, added: dict[int, str] | None = None, status: str = "M", removed: tuple[str, ...] = ()) -> FileChange:
    added = added or {}
    return FileChange(path, status, None, added, removed, len(added), len(removed))


def review(c: Charter, person: str, state: str = "approved") -> Review:
    p = c.people[person]
    return Review(Participant(login=p.github, person=person, org=p.org, org_kind=c.organisations[p.org].kind), state)  # type: ignore[arg-type]


def evidence(**kw: object) -> Evidence:
    return Evidence(**kw)  # type: ignore[arg-type]


def github_reviews(path: Path, *approvals: str, state: str = "APPROVED") -> Path:
    """A file shaped like GET /repos/{o}/{r}/pulls/{n}/reviews."""
    data = [
        {
            "id": i,
            "user": {"login": login, "type": "User"},
            "state": state,
            "submitted_at": "2026-01-01T00:00:00Z",
            "commit_id": "0" * 40,
            "author_association": "MEMBER",
        }
        for i, login in enumerate(approvals, 1)
    ]
    path.write_text(json.dumps(data))
    return path
