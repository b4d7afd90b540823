"""Derived data kept on this machine between runs, so that a run with nothing new does no work twice.

Never the only copy of anything: every entry is recomputed when its key differs (the inputs
changed, or this onebar's code did) or when it cannot be read, and a cache that cannot be written
(a read-only home, a full disk) is simply not kept. One small JSON file per kind and owner under
`settings.cache_dir()`, replaced whole (write, then rename), so concurrent runs never read half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from onebar.settings import cache_dir

_ROOT = Path(__file__).resolve().parent.parent  # the onebar package


def digest(*parts: object) -> str:
    """A stable key of `parts` (anything JSON can write)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@lru_cache
def code_version(*packages: str) -> str:
    """This onebar's version and the state (size, modification time) of the given packages' sources:
    an entry derived by code that has since changed is not reused, released or not."""
    from onebar import __version__

    files: Iterable[Path] = (f for package in packages for f in sorted((_ROOT / package).glob("*.py")))
    state = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        state.append((f.name, st.st_size, st.st_mtime_ns))
    return digest(__version__, packages, state)


def _file(kind: str, owner: str) -> Path:
    return cache_dir() / f"{kind}-{digest(owner)[:24]}.json"


def load(kind: str, owner: str, key: str) -> Any | None:
    """The value saved for `owner` under `key`, or None (absent, another key, unreadable)."""
    try:
        entry = json.loads(_file(kind, owner).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    return entry.get("value")


def save(kind: str, owner: str, key: str, value: Any) -> None:
    """Keep `value` for `owner` under `key`, replacing what was kept; silently skipped if it cannot be."""
    target = _file(kind, owner)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"key": key, "value": value}, out)
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError):
        pass
