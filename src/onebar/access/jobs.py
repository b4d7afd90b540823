"""The expiry sweep as a service job: every repository the service owns, against its charter as it is now.

Importing this module registers the sweeper with the job registry (`onebar.jobs.handlers.sweeper`);
the service's scheduled `sweep` job then runs it with the others.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from onebar.access.sweep import sweep
from onebar.charter import CHARTER_FILE, load_charter, parse_charter
from onebar.charter.model import Charter
from onebar.errors import CharterError, GitError
from onebar.git import git
from onebar.jobs.handlers import sweeper
from onebar.repos.registry import ServiceRepo, list_repos
from onebar.store import Store

log = logging.getLogger("onebar.access")


def charter_of(repo: ServiceRepo) -> Charter | None:
    """The repository's written charter (a mirror's from HEAD); None without one, or when it is invalid."""
    try:
        if repo.mirror:
            return parse_charter(git(Path(repo.path), "show", f"HEAD:{CHARTER_FILE}").decode("utf-8"), CHARTER_FILE)
        path = Path(repo.path) / CHARTER_FILE
        return load_charter(path) if path.is_file() else None
    except (CharterError, GitError, UnicodeDecodeError) as exc:
        log.warning("access sweep skips %s: %s", repo.name, exc)
        return None


@sweeper("grants")
def sweep_grants(store: Store, now: int) -> int:
    """Expire, revoke and shorten grants of every repository; how many grants changed."""
    today = datetime.fromtimestamp(now, UTC).date()
    changed = 0
    for repo in list_repos(store):
        charter = charter_of(repo)
        if charter is not None:
            changed += sweep(store, charter, repo.name, today=today).changed
    return changed
