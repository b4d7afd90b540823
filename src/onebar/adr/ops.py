"""Operations on a directory of ADRs: new, list, accept, supersede, sign.

Each takes the day as an argument (no clock inside) and writes whole files atomically (a temporary
file then a rename), so an interrupted command never leaves half a record.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from onebar.adr.records import FILENAME, TEMPLATE, Adr, AdrError, SignOff, parse_adr, render_adr, slugify
from onebar.charter import Charter, find_charter, load_charter
from onebar.errors import Location, NotFoundError

DEFAULT_DIR = "docs/adr"


@dataclass(frozen=True)
class AdrDirectory:
    """Where a repository keeps its ADRs, and its charter (None when it has none: ADRs work without one)."""

    path: Path
    charter: Charter | None


def open_adrs(repo: Path, directory: Path | None = None, *, need_charter: bool = False) -> AdrDirectory:
    """The ADR directory of the repository at `repo`: `directory` if given, else `[done.adr] directory`
    of its charter, else docs/adr. Signing needs the charter (who signs for which organisation):
    `need_charter` makes a missing one an error."""
    found = find_charter(repo)
    charter = load_charter(repo) if found is not None or need_charter else None
    if directory is None:
        directory = repo / (charter.done.adr.directory if charter is not None else DEFAULT_DIR)
    return AdrDirectory(directory, charter)


def load_all(directory: Path) -> list[Adr]:
    """Every ADR in `directory`, by number; files not named NNNN-slug.md are ignored."""
    if not directory.is_dir():
        return []
    out = []
    for p in sorted(directory.iterdir()):
        if FILENAME.match(p.name):
            try:
                text = p.read_bytes().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise AdrError(f"not UTF-8 text: {exc.reason}", location=Location(str(p))) from None
            out.append(parse_adr(text, str(p)))
    return sorted(out, key=lambda a: a.number)


def get(directory: Path, number: int) -> Adr:
    for adr in load_all(directory):
        if adr.number == number:
            return adr
    raise NotFoundError(f"no ADR {number:04d} in {directory}", hint="`onebar adr list` shows them")


def _write(directory: Path, adrs: list[Adr]) -> None:
    staged: list[tuple[str, Path]] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for adr in adrs:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".adr-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(render_adr(adr))
            staged.append((tmp, directory / adr.filename))
        for tmp, target in staged:
            Path(tmp).replace(target)
    except OSError as exc:
        raise AdrError(
            f"cannot write in {directory}: {exc.strerror or exc}", location=Location(str(directory))
        ) from None
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)


def new(
    directory: Path,
    title: str,
    today: date,
    *,
    deciders: list[str] | None = None,
    supersedes: list[int] | None = None,
    charter: Charter | None = None,
) -> Adr:
    """A new proposed ADR numbered after the highest one; optionally superseding others."""
    if not title.strip():
        raise AdrError("an ADR needs a title", location=Location(str(directory)))
    for person in deciders or []:
        _known(charter, person)
    existing = load_all(directory)
    number = max((a.number for a in existing), default=0) + 1
    adr = Adr(
        number,
        slugify(title),
        title.strip(),
        "proposed",
        today,
        list(deciders or []),
        body="\n" + TEMPLATE.format(title=title.strip()),
    )
    _write(directory, [adr])
    for old in supersedes or []:
        supersede(directory, old, number, today)
    return get(directory, number) if supersedes else adr


def accept(directory: Path, number: int, today: date) -> Adr:
    adr = get(directory, number)
    if adr.status in ("superseded", "rejected"):
        raise AdrError(f"{adr.ref} is {adr.status}; write a new ADR instead", location=Location(adr.filename))
    adr.status, adr.date = "accepted", today
    _write(directory, [adr])
    return adr


def supersede(directory: Path, old_number: int, new_number: int, today: date) -> tuple[Adr, Adr]:
    """Mark `old` superseded by `new` and record the link in both files, in one write."""
    if old_number == new_number:
        raise AdrError("an ADR cannot supersede itself", location=Location(str(directory)))
    old, new_ = get(directory, old_number), get(directory, new_number)
    if old.superseded_by is not None:
        raise AdrError(
            f"{old.ref} is already superseded by ADR-{old.superseded_by:04d}",
            location=Location(old.filename, None, "status"),
        )
    old.status, old.superseded_by, old.date = "superseded", new_.number, today
    old.body = old.body.rstrip("\n") + f"\n\nSuperseded by [{new_.ref}]({new_.filename}).\n"
    if old.number not in new_.supersedes:
        new_.supersedes.append(old.number)
        new_.body = new_.body.rstrip("\n") + f"\n\nSupersedes [{old.ref}]({old.filename}).\n"
    _write(directory, [old, new_])
    return old, new_


def sign(directory: Path, number: int, person: str, charter: Charter, today: date) -> Adr:
    """Record `person`'s sign-off with their organisation (from the charter) and the day."""
    _known(charter, person)
    adr = get(directory, number)
    if adr.status in ("superseded", "rejected", "deprecated"):
        raise AdrError(f"{adr.ref} is {adr.status}; it can no longer be signed", location=Location(adr.filename))
    if any(s.person == person for s in adr.signoffs):
        raise AdrError(f"{person} has already signed {adr.ref}", location=Location(adr.filename, None, "sign-off"))
    adr.signoffs.append(SignOff(person, charter.people[person].org, today))
    _write(directory, [adr])
    return adr


def _known(charter: Charter | None, person: str) -> None:
    if charter is not None and person not in charter.people:
        known = ", ".join(sorted(charter.people)[:8]) or "(none)"
        raise NotFoundError(f"unknown person {person!r}; known people: {known}", location=Location("onebar.toml"))
