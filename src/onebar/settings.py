"""Settings with one precedence: flag, then environment (ONEBAR_*), then default.

Nothing here runs at import time; callers ask when they need a value.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATABASE_URL = "ONEBAR_DATABASE_URL"
ENV_CACHE_DIR = "ONEBAR_CACHE_DIR"


def default_database_path() -> Path:
    """The embedded SQLite store: $XDG_DATA_HOME/onebar/onebar.db (~/.local/share/onebar/onebar.db)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "onebar" / "onebar.db"


def database_url(flag: str | None = None) -> str:
    """The store to use: --db, then ONEBAR_DATABASE_URL, then the default SQLite file.

    A bare path (no '://') is taken as a SQLite file.
    """
    value = flag or os.environ.get(ENV_DATABASE_URL)
    if not value:
        return f"sqlite:///{default_database_path()}"
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    if value.startswith("postgres://"):
        value = "postgresql://" + value.removeprefix("postgres://")
    if value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
    return value


def cache_dir() -> Path:
    """Where derived data is kept between runs: ONEBAR_CACHE_DIR, else $XDG_CACHE_HOME/onebar
    (~/.cache/onebar). Deleting it is always safe."""
    if value := os.environ.get(ENV_CACHE_DIR):
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "onebar"
