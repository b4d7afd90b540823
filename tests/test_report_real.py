"""The truck factor against the published value on a real history (needs a local flask clone).

Set ONEBAR_FLASK_REPO to a clone of pallets/flask; the test is skipped otherwise (CI has no network).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from onebar.charter.draft import draft_charter
from onebar.mining.ingest import ingest_repository
from onebar.report.build import build_report
from onebar.store import Store

FLASK = os.environ.get("ONEBAR_FLASK_REPO")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not FLASK or not Path(FLASK).exists(), reason="set ONEBAR_FLASK_REPO to a flask clone"),
]


def test_flask_truck_factor_matches_the_published_value(store: Store) -> None:
    path = Path(str(FLASK))
    charter = draft_charter(path)
    repo_id = ingest_repository(path, store, lines=False).repo_id
    k = build_report(store, repo_id, charter, since="all", until="2015-06-01").data["knowledge"]
    assert k["truck_factor"] == 1  # Avelino et al.'s 2015 list: mitsuhiko/flask, TF = 1
    assert [p["name"] for p in k["truck_factor_people"]] == ["Armin Ronacher"]
