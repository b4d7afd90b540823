"""Lookups the service keeps in memory until the store changes (`onebar.store.stamped`)."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from onebar.auth.tokens import create_token, revoke_token
from onebar.server.app import create_app
from onebar.server.settings import ServiceSettings
from onebar.store import Store, open_store
from onebar.store.schema_service import api_tokens
from onebar.store.stamped import Stamped


def test_a_memo_lasts_until_the_next_commit_by_anyone(store: Store, store_url: str) -> None:
    memo: Stamped[int] = Stamped(store)
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    first = memo.get("k", load)
    second = memo.get("k", load)
    other = open_store(store_url)  # another connection, as another process would be
    try:
        create_token(other, "auditor")
    finally:
        other.close()
    again = memo.get("k", load)
    if store.dialect == "sqlite":
        assert (first, second, again) == (1, 1, 2)  # kept until the commit, then read again
    else:
        assert (first, second, again) == (1, 2, 3)  # no cheap stamp on PostgreSQL: every lookup reads


def test_each_thread_keeps_its_own_memo(store: Store) -> None:
    memo: Stamped[str] = Stamped(store)
    seen: list[str] = []
    worker = threading.Thread(target=lambda: seen.append(memo.get("k", lambda: "other thread")))
    worker.start()
    worker.join()
    assert memo.get("k", lambda: "this thread") == "this thread"
    assert seen == ["other thread"]


def test_a_token_revoked_by_another_process_is_refused_on_the_next_request(store_url: str, tmp_path: object) -> None:
    setup = open_store(store_url)
    admin = create_token(setup, "admin").token
    setup.close()
    settings = ServiceSettings(database_url=store_url, job_workers=0)
    with TestClient(create_app(settings)) as client:
        auth = {"Authorization": f"Bearer {admin}"}
        assert client.get("/api/v1/whoami", headers=auth).status_code == 200
        assert client.get("/api/v1/whoami", headers=auth).status_code == 200  # answered from the memo
        other = open_store(store_url)
        try:
            with other.read() as conn:
                token_id = conn.execute(api_tokens.select()).first().id  # type: ignore[union-attr]
            revoke_token(other, token_id)
        finally:
            other.close()
        refused = client.get("/api/v1/whoami", headers=auth)
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
