"""The charter file of a repository: drafting it (`onebar init`) and checking it (`onebar check`).

Both return typed results that the CLI prints and the service serves; the day a draft is dated is
an argument, so nothing here reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from onebar.charter.load import CHARTER_FILE, load_charter
from onebar.charter.model import Charter
from onebar.errors import UsageError
from onebar.files import replace_text
from onebar.git import RepoInfo, open_repository


@dataclass(frozen=True)
class CharterSummary:
    """What a charter holds, counted: the answer of `onebar check` and of a drafted `onebar init`."""

    file: Path
    organisations: int
    people: int
    components: int
    kinds: dict[str, int]  # organisation kind -> how many organisations of it

    @classmethod
    def of(cls, file: Path, charter: Charter) -> CharterSummary:
        kinds: dict[str, int] = {}
        for org in charter.organisations.values():
            kinds[org.kind] = kinds.get(org.kind, 0) + 1
        return cls(
            file, len(charter.organisations), len(charter.people), len(charter.components), dict(sorted(kinds.items()))
        )

    def to_json(self) -> dict[str, object]:
        return {
            "valid": True,
            "file": str(self.file),
            "organisations": self.organisations,
            "people": self.people,
            "components": self.components,
            "kinds": self.kinds,
        }


@dataclass(frozen=True)
class DraftedCharter:
    """A charter drafted from a repository's history, as TOML, and where it belongs."""

    target: Path
    text: str
    summary: CharterSummary


def check_charter(path: Path) -> CharterSummary:
    """Validate the charter at `path` (a file, or a directory holding onebar.toml); CharterError lists every problem."""
    charter = load_charter(path)
    return CharterSummary.of(path / CHARTER_FILE if path.is_dir() else path, charter)


def draft_charter_file(
    repo: Path, internal_domains: tuple[str, ...] = (), *, today: date, org_domains: tuple[str, ...] = ()
) -> DraftedCharter:
    """Draft onebar.toml for the repository at `repo` from its history and tree (nothing is written)."""
    return _draft(open_repository(repo), internal_domains, today, org_domains)


def _draft(
    info: RepoInfo, internal_domains: tuple[str, ...], today: date, org_domains: tuple[str, ...] = ()
) -> DraftedCharter:
    from onebar.charter.draft import charter_to_toml, draft_charter

    charter = draft_charter(info.root, internal_domains, org_domains)
    header = (
        f"# onebar charter, drafted by `onebar init` on {today.isoformat()} from git history.\n"
        "# Review it: organisations come from e-mail domains, time zones from commit offsets,\n"
        "# robots from onebar's robot table (docs/charter.md, 'What onebar init infers').\n"
        "# Reference: docs/charter.md. Validate with `onebar check`.\n\n"
    )
    target = info.root / CHARTER_FILE
    return DraftedCharter(target, charter_to_toml(charter, header), CharterSummary.of(target, charter))


def init_charter(
    repo: Path,
    internal_domains: tuple[str, ...] = (),
    *,
    today: date,
    force: bool = False,
    org_domains: tuple[str, ...] = (),
) -> DraftedCharter:
    """Draft onebar.toml and write it at the repository's root; an existing one is kept unless `force`."""
    info = open_repository(repo)
    target = info.root / CHARTER_FILE
    if target.exists() and not force:
        raise UsageError(f"{target} already exists and is only overwritten when forced", field="force")
    drafted = _draft(info, internal_domains, today, org_domains)
    replace_text(target, drafted.text)
    return drafted
