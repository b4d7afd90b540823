"""Reading onebar.toml: TOML syntax, then the typed model, then cross-references.

Every problem is reported with the file, the line and the dotted field it concerns.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from onebar.charter.model import Charter, Loc, cross_check
from onebar.errors import CharterError, Problem

CHARTER_FILE = "onebar.toml"
_TOML_POS = re.compile(r"\(at line (\d+), column \d+\)")


def load_charter(path: Path) -> Charter:
    """Load and validate the charter at `path` (a file, or a directory holding onebar.toml)."""
    if path.is_dir():
        path = path / CHARTER_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CharterError(str(path), [Problem("no charter here; run `onebar init` to draft one")]) from None
    except UnicodeDecodeError as exc:
        raise CharterError(str(path), [Problem(f"not UTF-8 text: {exc.reason}")]) from None
    return parse_charter(text, str(path))


def find_charter(repo: Path) -> Path | None:
    candidate = repo / CHARTER_FILE
    return candidate if candidate.is_file() else None


def parse_charter(text: str, filename: str = CHARTER_FILE) -> Charter:
    """Validate charter text; raises CharterError listing every problem with its line and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.search(msg)
        line = int(m.group(1)) if m else None
        raise CharterError(filename, [Problem(f"TOML syntax: {_TOML_POS.sub('', msg).strip()}", line)]) from None
    try:
        charter = Charter.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(text, tuple(err["loc"]), _message(err)) for err in exc.errors()]
        raise CharterError(filename, _in_file_order(problems)) from None
    issues = cross_check(charter)
    if issues:
        raise CharterError(filename, _in_file_order([_problem(text, loc, msg) for loc, msg in issues]))
    return charter


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line or 0)


def _message(err: object) -> str:
    e = err if isinstance(err, dict) else {}
    msg = str(e.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ")
    if e.get("type") == "extra_forbidden":
        return "unknown field (a typo?)"
    if e.get("type") == "literal_error":
        return f"{msg}, got {e.get('input')!r}"
    return msg


def _problem(text: str, loc: Loc, message: str) -> Problem:
    return Problem(message, locate(text, loc), ".".join(str(p) for p in loc) or None)


def _split_key(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.split(r"\.(?=(?:[^\"']*[\"'][^\"']*[\"'])*[^\"']*$)", key.strip())]


def locate(text: str, loc: Loc) -> int | None:
    """The line of `text` that best matches the dotted location (deepest match, first occurrence)."""
    path = [str(p) for p in loc]
    table: list[str] = []
    arrays: dict[tuple[str, ...], int] = {}
    best: tuple[int, int] | None = None  # (depth matched, line number)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[["):
            name = _split_key(line[2 : line.find("]]")])
            index = arrays[tuple(name)] = arrays.get(tuple(name), -1) + 1
            table = [*name, str(index)]
            candidate = table
        elif line.startswith("["):
            table = _split_key(line[1 : line.find("]")])
            candidate = table
        elif "=" in line:
            candidate = table + _split_key(line.split("=", 1)[0])
        else:
            continue
        depth = 0
        for a, b in zip(candidate, path, strict=False):
            if a != b:
                break
            depth += 1
        # A line counts only when it lies on the path: it is a prefix of the location or the location itself.
        if depth == len(candidate) and depth and (best is None or depth > best[0]):
            best = (depth, number)
    return best[1] if best else None
