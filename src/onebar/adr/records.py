"""MADR-style decision records: parsing and writing `NNNN-slug.md` files with YAML front matter.

Front matter holds what tools read (status, date, decision-makers, supersession, sign-offs); the
body is the team's prose and is never rewritten, only appended to (supersession links). Nygard /
adr-tools files without front matter are read too (status from `## Status`, date from `Date:`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from onebar.errors import Location, UsageError

STATUSES = ("draft", "proposed", "accepted", "rejected", "deprecated", "superseded")
FILENAME = re.compile(r"^(\d{4})-([a-z0-9][a-z0-9-]*)\.md$")
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?", re.DOTALL)


class AdrError(UsageError):
    """An ADR file that cannot be read or an operation that the records do not allow."""

    http_status = 422


@dataclass
class SignOff:
    person: str
    organisation: str
    date: date


@dataclass
class Adr:
    number: int
    slug: str
    title: str
    status: str = "proposed"
    date: date | None = None
    deciders: list[str] = field(default_factory=list)
    consulted: list[str] = field(default_factory=list)
    informed: list[str] = field(default_factory=list)
    supersedes: list[int] = field(default_factory=list)
    superseded_by: int | None = None
    signoffs: list[SignOff] = field(default_factory=list)
    body: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # other front-matter keys, kept as they were

    @property
    def filename(self) -> str:
        return f"{self.number:04d}-{self.slug}.md"

    @property
    def ref(self) -> str:
        return f"ADR-{self.number:04d}"

    def to_json(self) -> dict[str, Any]:
        """The record as `onebar adr list --format json` and the service show it."""
        return {
            "number": self.number,
            "file": self.filename,
            "title": self.title,
            "status": self.status,
            "date": self.date.isoformat() if self.date else None,
            "deciders": self.deciders,
            "supersedes": self.supersedes,
            "superseded_by": self.superseded_by,
            "signoffs": [
                {"person": s.person, "organisation": s.organisation, "date": s.date.isoformat()} for s in self.signoffs
            ],
        }


def slugify(title: str) -> str:
    """The file-name part of a title: letters of any script transliterated to ASCII ("Ünïcode für
    Straße" -> "unicode-fur-strasse"), everything else a dash, at most 60 characters."""
    from anyascii import anyascii

    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(title).lower()).strip("-")
    return slug[:60].rstrip("-") or "decision"


def _status(raw: str, file: str) -> tuple[str, int | None]:
    text = str(raw).strip().lower()
    m = re.match(r"^supersede?d by\s*\[?(?:adr-?)?(\d+)", text)
    if m:
        return "superseded", int(m.group(1))
    word = text.split()[0] if text else ""
    if word not in STATUSES:
        raise AdrError(
            f"unknown status {raw!r}; use one of {', '.join(STATUSES)}", location=Location(file, None, "status")
        )
    return word, None


def _people(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def parse_adr(text: str, filename: str) -> Adr:
    """Read one ADR; AdrError names the file and field when it cannot be understood."""
    name = filename.rsplit("/", 1)[-1]
    m = FILENAME.match(name)
    if not m:
        raise AdrError("ADR files are named NNNN-title-with-dashes.md", location=Location(filename))
    number, slug = int(m.group(1)), m.group(2)
    front: dict[str, Any] = {}
    body = text
    fm = _FRONT.match(text)
    if fm:
        try:
            loaded = yaml.safe_load(fm.group(1)) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise AdrError(
                f"front matter is not YAML: {getattr(exc, 'problem', exc)}",
                location=Location(filename, mark.line + 2 if mark else None),
            ) from None
        if not isinstance(loaded, dict):
            raise AdrError("front matter must be a mapping", location=Location(filename, 2))
        front, body = loaded, text[fm.end() :]
    title_m = re.search(r"^#\s+(?:\d+\.\s+)?(.+?)\s*$", body, re.MULTILINE)
    title = title_m.group(1) if title_m else slug.replace("-", " ")
    raw_status = front.get("status")
    if raw_status is None:  # Nygard: the first line under "## Status"
        sm = re.search(r"^##\s+Status\s*\n+\s*(.+)$", body, re.MULTILINE)
        raw_status = sm.group(1) if sm else "proposed"
    status, by = _status(str(raw_status), filename)
    when = front.get("date")
    if when is None:
        dm = re.search(r"^Date:\s*(\d{4}-\d{2}-\d{2})", body, re.MULTILINE)
        when = dm.group(1) if dm else None
    adr = Adr(
        number,
        slug,
        title,
        status,
        _date(when, filename, "date"),
        _people(front.get("decision-makers", front.get("deciders"))),
        _people(front.get("consulted")),
        _people(front.get("informed")),
        superseded_by=by,
        body=body,
    )
    adr.supersedes = [_number(v, filename) for v in (front.get("supersedes") or [])]
    for i, item in enumerate(front.get("sign-off") or []):
        if not isinstance(item, dict) or "person" not in item:
            raise AdrError(
                "each sign-off needs person, organisation and date", location=Location(filename, None, f"sign-off[{i}]")
            )
        adr.signoffs.append(
            SignOff(
                str(item["person"]),
                str(item.get("organisation", "")),
                _date(item.get("date"), filename, f"sign-off[{i}].date") or date.min,
            )
        )
    known = {"status", "date", "decision-makers", "deciders", "consulted", "informed", "supersedes", "sign-off"}
    adr.extra = {k: v for k, v in front.items() if k not in known}
    return adr


def _date(value: Any, file: str, field_name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise AdrError(f"not a YYYY-MM-DD date: {value!r}", location=Location(file, None, field_name)) from None


def _number(value: Any, file: str) -> int:
    m = re.search(r"(\d+)", str(value))
    if not m:
        raise AdrError(f"not an ADR reference: {value!r}", location=Location(file, None, "supersedes"))
    return int(m.group(1))


def render_adr(adr: Adr) -> str:
    """The file's text: front matter in a fixed key order, then the body as it was."""
    front: dict[str, Any] = {
        "status": f"superseded by ADR-{adr.superseded_by:04d}" if adr.superseded_by else adr.status,
        "date": adr.date,
        "decision-makers": adr.deciders,
        "consulted": adr.consulted,
        "informed": adr.informed,
    }
    if adr.supersedes:
        front["supersedes"] = [f"ADR-{n:04d}" for n in adr.supersedes]
    front.update(adr.extra)
    front["sign-off"] = [{"person": s.person, "organisation": s.organisation, "date": s.date} for s in adr.signoffs]
    text = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)
    return f"---\n{text}---\n{adr.body if adr.body.startswith(chr(10)) else chr(10) + adr.body}"


TEMPLATE = """# {title}

## Context and Problem Statement

{{Describe the context and the problem, in two or three sentences.}}

## Considered Options

* {{option 1}}
* {{option 2}}

## Decision Outcome

Chosen option: "{{option}}", because {{justification}}.

### Consequences

* Good, because {{…}}
* Bad, because {{…}}

### Confirmation

{{How compliance with this decision is confirmed: a review, a test, a gate rule.}}

## More Information
"""
