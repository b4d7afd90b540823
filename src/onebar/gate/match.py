"""Path globs with git's wildmatch semantics (pathspec), compiled once per pattern list."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import pathspec


@lru_cache(maxsize=512)
def _spec(patterns: tuple[str, ...]) -> pathspec.PathSpec[pathspec.Pattern]:
    return pathspec.PathSpec.from_lines("gitignore", patterns)


def matches(patterns: Sequence[str], path: str) -> bool:
    """True when `path` (repository-relative, POSIX) matches any of `patterns`."""
    return bool(patterns) and _spec(tuple(patterns)).match_file(path)


def last_match(rules: Sequence[tuple[str, str]], path: str) -> str | None:
    """CODEOWNERS semantics: the owner of the last (pattern, owner) pair whose pattern matches `path`."""
    for pattern, owner in reversed(rules):
        if _spec((pattern,)).match_file(path):
            return owner
    return None
