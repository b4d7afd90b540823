"""The audit log: appends form one chain, and every kind of tampering is named by sequence number."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, delete, insert, select, text, update

from helpers import run_cli
from onebar import audit
from onebar.audit.chain import Frontier, entry_bytes, leaf_hash, merkle_root
from onebar.errors import UsageError
from onebar.store import Store, open_store
from onebar.store.schema_access import audit_checkpoints, audit_entries

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
KEY = audit.SignerKey.generate()
ROOT = Path(__file__).parent.parent


def fill(store: Store, n: int, *, checkpoint_every: int = 0, start: int = 0) -> None:
    """n entries, each in its own transaction as the service writes them; checkpoints as a job would sign them."""
    for i in range(start, start + n):
        with store.write() as conn:
            audit.record(
                conn,
                actor=audit.Actor(person=f"p{i % 3}", org="acme", via="api"),
                action="access.grant.approve",
                target=f"grant:{i}",
                payload={"level": "write", "i": i, "ratio": i / 7},
                at=T0 + timedelta(minutes=i),
            )
            if checkpoint_every and (i + 1) % checkpoint_every == 0:
                audit.sign_checkpoint(conn, KEY, at=T0 + timedelta(minutes=i, seconds=30))


def verify_json(url: str, *extra: str) -> tuple[int, dict]:
    result = run_cli("audit", "verify", "--db", url, "--format", "json", "--public-key", KEY.verifier.vkey(), *extra)
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def log(store: Store, store_url: str) -> tuple[Store, str]:
    fill(store, 12, checkpoint_every=5)  # checkpoints at 5 and 10; 11-12 only chained
    return store, store_url


# --- hashing ---------------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=300))
@settings(max_examples=60, deadline=None)
def test_the_frontier_gives_the_rfc6962_tree_head(n: int) -> None:
    leaves = [leaf_hash(str(i).encode()) for i in range(n)]
    f = Frontier()
    for leaf in leaves:
        f.append(leaf)
    assert f.root() == merkle_root(leaves)
    assert Frontier.load(f.size, f.dump()).root() == f.root()


def test_rfc6962_test_vectors() -> None:
    # The empty tree hashes to SHA-256(""), and a one-leaf tree to its leaf hash (RFC 6962 section 2.1).
    assert merkle_root([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle_root([leaf_hash(b"")]) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


@given(
    st.text(),
    st.text(min_size=1),
    st.one_of(st.none(), st.text()),
    st.integers(min_value=1, max_value=2**53 - 1),
)
@settings(max_examples=200, deadline=None)
def test_entry_encoding_is_rfc8785(target: str, action: str, person: str | None, seq: int) -> None:
    actor = audit.Actor(person=person, token=None, org="o", via="api")
    doc = {
        "action": action,
        "actor": actor.to_dict(),
        "at": "2025-01-01T00:00:00.000000Z",
        "outcome": "success",
        "payload_sha256": "0" * 64,
        "prev_hash": "1" * 64,
        "seq": seq,
        "target": target,
        "v": 1,
    }
    try:
        expected = rfc8785.dumps(doc)
    except rfc8785.CanonicalizationError:
        return  # lone surrogates: not encodable in UTF-8 either way
    assert entry_bytes(seq, doc["at"], actor, action, target, "success", "0" * 64, "1" * 64) == expected


# --- recording -------------------------------------------------------------------------------------


def test_entries_chain_and_verify(log: tuple[Store, str]) -> None:
    store, url = log
    with store.read() as conn:
        rows = list(audit.entries(conn))
        assert [e.seq for e in rows] == list(range(1, 13))
        assert rows[0].prev_hash == audit.GENESIS
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
        assert rows[3].payload_data() == {"i": 3, "level": "write", "ratio": 3 / 7}
        v = audit.verify(conn, KEY.verifier)
    assert v.ok and v.entries == 12 and v.checkpoints == 2 and v.signed_through == 10
    code, out = verify_json(url)
    assert code == 0 and out["ok"] and out["first_bad"] is None
    assert any("after 10" in n for n in out["notes"])


def test_a_rolled_back_change_leaves_no_entry(store: Store) -> None:
    fill(store, 2)

    def failing_change() -> None:
        with store.write() as conn:
            audit.record(conn, actor=audit.Actor(person="x"), action="thing.change", target="t:1")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    fill(store, 1, start=2)
    with store.read() as conn:
        assert [e.target for e in audit.entries(conn)] == ["grant:0", "grant:1", "grant:2"]
        assert audit.verify(conn, None).ok


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": "Grant Approve"}, "action"),
        ({"target": ""}, "target"),
        ({"outcome": "maybe"}, "outcome"),
        ({"payload": {"x": {1, 2}}}, "payload"),
        ({"payload": {"x": float("nan")}}, "payload"),
        ({"at": datetime(2025, 1, 1)}, "at"),
    ],
)
def test_bad_entries_are_refused_naming_the_field(store: Store, kwargs: dict, field: str) -> None:
    args = {"actor": audit.Actor(person="a"), "action": "a.b", "target": "t", **kwargs}
    with pytest.raises(UsageError) as info, store.write() as conn:
        audit.record(conn, **args)
    assert info.value.field == field


def test_record_many_is_one_chain(store: Store) -> None:
    events = [audit.Event(audit.Actor.system(), "access.grant.expire", f"grant:{i}", {"i": i}) for i in range(50)]
    with store.write() as conn:
        written = audit.record_many(conn, events)
        audit.record(conn, actor=audit.Actor(person="a"), action="x.y", target="t")
    assert [e.seq for e in written] == list(range(1, 51))
    with store.read() as conn:
        assert audit.count(conn) == 51
        assert audit.verify(conn, None).ok


# --- tampering, directly in the database -------------------------------------------------------------


def _exec(store: Store, fn: Callable[[Connection], None]) -> None:
    with store.engine.begin() as conn:
        fn(conn)


def _shift(conn: Connection, from_seq: int, by: int) -> None:
    """Renumber entries >= from_seq by `by` in two steps, so no primary key collides on the way."""
    conn.execute(text("UPDATE audit_entries SET seq = -(seq + :by) WHERE seq >= :s"), {"by": by, "s": from_seq})
    conn.execute(text("UPDATE audit_entries SET seq = -seq WHERE seq < 0"))


def _row(conn: Connection, seq: int) -> dict:
    return dict(conn.execute(select(audit_entries).where(audit_entries.c.seq == seq)).one()._mapping)


def tamper_edit(conn: Connection) -> None:
    conn.execute(update(audit_entries).where(audit_entries.c.seq == 4).values(target="grant:999"))


def tamper_edit_payload(conn: Connection) -> None:
    conn.execute(update(audit_entries).where(audit_entries.c.seq == 4).values(payload='{"level":"admin"}'))


def tamper_edit_rehash(conn: Connection) -> None:
    """Change entry 4's actor and recompute its hash (the attacker knows the algorithm)."""
    row = _row(conn, 4)
    e = audit.Entry(
        4, row["at"], audit.Actor("mallory", None, "acme", "api"), row["action"], row["target"], row["outcome"],
        row["payload"], row["payload_sha256"], row["prev_hash"], "",
    )  # fmt: skip
    h = leaf_hash(entry_bytes(4, e.at, e.actor, e.action, e.target, e.outcome, e.payload_sha256, e.prev_hash))
    conn.execute(update(audit_entries).where(audit_entries.c.seq == 4).values(actor_person="mallory", hash=h))


def tamper_delete(conn: Connection) -> None:
    conn.execute(delete(audit_entries).where(audit_entries.c.seq == 4))


def tamper_delete_renumber(conn: Connection) -> None:
    conn.execute(delete(audit_entries).where(audit_entries.c.seq == 4))
    _shift(conn, 5, -1)


def tamper_insert(conn: Connection) -> None:
    """A forged entry at 4 with a valid hash and link; the later entries renumbered to make room."""
    prev = _row(conn, 3)["hash"]
    _shift(conn, 4, 1)
    actor = audit.Actor("mallory", None, "acme", "api")
    digest = hashlib.sha256(b'{"level":"admin"}').hexdigest()
    h = leaf_hash(entry_bytes(4, "2025-01-06T09:03:30.000000Z", actor, "access.grant.approve", "grant:x",
                              "success", digest, prev))  # fmt: skip
    conn.execute(
        insert(audit_entries).values(
            seq=4, at="2025-01-06T09:03:30.000000Z", actor_person="mallory", actor_org="acme", via="api",
            action="access.grant.approve", target="grant:x", outcome="success", payload=None,
            payload_sha256=digest, prev_hash=prev, hash=h,
        )
    )  # fmt: skip


def tamper_reorder(conn: Connection) -> None:
    conn.execute(update(audit_entries).where(audit_entries.c.seq == 3).values(seq=-1))
    conn.execute(update(audit_entries).where(audit_entries.c.seq == 7).values(seq=3))
    conn.execute(update(audit_entries).where(audit_entries.c.seq == -1).values(seq=7))


def tamper_swap_neighbours(conn: Connection) -> None:
    conn.execute(update(audit_entries).where(audit_entries.c.seq == 3).values(seq=-1))
    conn.execute(update(audit_entries).where(audit_entries.c.seq == 4).values(seq=3))
    conn.execute(update(audit_entries).where(audit_entries.c.seq == -1).values(seq=4))


def tamper_rewrite_all(conn: Connection) -> None:
    """Edit entry 7 and recompute every hash from there: only the signed checkpoint can tell."""
    conn.execute(update(audit_entries).where(audit_entries.c.seq == 7).values(target="grant:hidden"))
    rows = [_row(conn, s) for s in range(1, 13)]
    prev = audit.GENESIS
    for r in rows:
        actor = audit.Actor(r["actor_person"], r["actor_token"], r["actor_org"], r["via"])
        h = leaf_hash(entry_bytes(r["seq"], r["at"], actor, r["action"], r["target"], r["outcome"],
                                  r["payload_sha256"], prev))  # fmt: skip
        conn.execute(update(audit_entries).where(audit_entries.c.seq == r["seq"]).values(prev_hash=prev, hash=h))
        prev = h


def tamper_truncate(conn: Connection) -> None:
    conn.execute(delete(audit_entries).where(audit_entries.c.seq >= 9))


def tamper_drop_checkpoint(conn: Connection) -> None:
    conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.size == 5))


@pytest.mark.parametrize(
    ("tamper", "first_bad", "kind"),
    [
        (tamper_edit, 4, "edited"),
        (tamper_edit_payload, 4, "edited"),
        (tamper_edit_rehash, 4, "edited"),
        (tamper_delete, 4, "deleted"),
        (tamper_delete_renumber, 4, "deleted"),
        (tamper_insert, 4, "inserted"),
        (tamper_reorder, 3, "reordered"),
        (tamper_swap_neighbours, 3, "reordered"),
        (tamper_rewrite_all, 6, "rewritten"),
        (tamper_truncate, 9, "truncated"),
        (tamper_drop_checkpoint, 10, "checkpoint"),
    ],
)
def test_tampering_is_named_by_sequence_number(
    log: tuple[Store, str], tamper: Callable[[Connection], None], first_bad: int, kind: str
) -> None:
    store, url = log
    _exec(store, tamper)
    code, out = verify_json(url)
    assert code == 1
    assert out["first_bad"] == first_bad, out["problems"]
    assert out["problems"][0]["kind"] == kind
    text_run = run_cli("audit", "verify", "--db", url, "--public-key", KEY.verifier.vkey())
    assert text_run.exit_code == 1
    assert f"first bad entry {first_bad} ({kind})" in text_run.stdout


def test_a_redacted_payload_still_verifies(log: tuple[Store, str]) -> None:
    store, url = log
    _exec(store, lambda c: c.execute(update(audit_entries).where(audit_entries.c.seq == 2).values(payload=None)))
    code, out = verify_json(url)
    assert code == 0 and any("redacted" in n for n in out["notes"])


def test_a_wrong_checkpoint_key_is_detected(log: tuple[Store, str]) -> None:
    _, url = log
    other = audit.SignerKey.generate().verifier.vkey()
    result = run_cli("audit", "verify", "--db", url, "--format", "json", "--public-key", other)
    out = json.loads(result.stdout)
    assert result.exit_code == 1
    assert out["first_bad"] == 5 and out["problems"][0]["kind"] == "signature"
    assert KEY.verifier.key_id.hex() in out["problems"][0]["message"]


def test_a_forged_checkpoint_signature_is_detected(log: tuple[Store, str]) -> None:
    store, url = log
    forger = audit.SignerKey(audit.SignerKey.generate().name, audit.SignerKey.generate().private)

    def forge(conn: Connection) -> None:
        note = conn.execute(select(audit_checkpoints.c.note).where(audit_checkpoints.c.size == 10)).scalar_one()
        from onebar.audit.keys import sign_note

        body = note.rpartition("\n\n")[0] + "\n"
        conn.execute(
            update(audit_checkpoints).where(audit_checkpoints.c.size == 10).values(note=sign_note(body, forger))
        )

    _exec(store, forge)
    code, out = verify_json(url)
    assert code == 1 and out["first_bad"] == 10 and out["problems"][0]["kind"] == "signature"


def test_without_a_key_checkpoints_are_not_taken_on_trust(log: tuple[Store, str], monkeypatch) -> None:
    _, url = log
    for var in ("ONEBAR_AUDIT_KEY", "ONEBAR_AUDIT_KEY_FILE", "ONEBAR_AUDIT_PUBLIC_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(Path(url.split("///")[-1]).parent / "nokey"))
    result = run_cli("audit", "verify", "--db", url)
    assert result.exit_code == 1
    assert "could not be checked" in result.stdout


def test_checkpoint_refuses_to_sign_a_broken_chain(log: tuple[Store, str]) -> None:
    store, _ = log
    _exec(store, lambda c: c.execute(update(audit_entries).where(audit_entries.c.seq == 11).values(target="x")))
    fill(store, 1, start=12)
    with pytest.raises(audit.AuditIntegrityError, match="entry 11"), store.write() as conn:
        audit.sign_checkpoint(conn, KEY)


# --- the CLI: keys, export, offline verification -------------------------------------------------------


def test_keygen_checkpoint_export_and_offline_verify(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = f"sqlite:///{tmp_path / 'a.db'}"
    keygen = run_cli("audit", "keygen")
    assert keygen.exit_code == 0
    vkey = keygen.stdout.strip()
    key_file = tmp_path / "data" / "onebar" / "audit.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert run_cli("audit", "keygen").exit_code == 2  # never overwrites a key
    store = open_store(url)
    fill(store, 6)
    store.close()
    signed = run_cli("audit", "checkpoint", "--db", url)
    assert signed.exit_code == 0 and "entry 6" in signed.stdout
    assert "nothing new" in run_cli("audit", "checkpoint", "--db", url).stdout
    entries_file, cps_file = tmp_path / "log.jsonl", tmp_path / "cps.jsonl"
    assert run_cli("audit", "export", "--db", url, "-o", str(entries_file)).exit_code == 0
    assert run_cli("audit", "export", "--db", url, "--checkpoints", "-o", str(cps_file)).exit_code == 0
    lines = entries_file.read_text().splitlines()
    assert len(lines) == 6 and json.loads(lines[0])["seq"] == 1
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "elsewhere"))  # the auditor has only the verifier key
    ok = run_cli("audit", "verify", "--from", str(entries_file), "--checkpoints", str(cps_file), "--public-key", vkey)
    assert ok.exit_code == 0, ok.stdout
    # An edited export fails offline too.
    rows = [json.loads(line) for line in lines]
    rows[2]["target"] = "grant:other"
    entries_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bad = run_cli(
        "audit", "verify", "--from", str(entries_file), "--checkpoints", str(cps_file), "--public-key", vkey,
        "--format", "json",
    )  # fmt: skip
    assert bad.exit_code == 1 and json.loads(bad.stdout)["first_bad"] == 3


def test_export_since_and_list(store: Store, store_url: str) -> None:
    fill(store, 5)
    out = run_cli("audit", "export", "--db", store_url, "--since", "2025-01-06T09:03:00Z")
    assert [json.loads(line)["seq"] for line in out.stdout.splitlines()] == [4, 5]
    listed = run_cli("audit", "list", "--db", store_url, "--target", "grant:2")
    assert "access.grant.approve grant:2" in listed.stdout and "grant:3" not in listed.stdout
    bad = run_cli("audit", "export", "--db", store_url, "--since", "last tuesday")
    assert bad.exit_code == 2 and "--since" in bad.stderr


def test_key_from_the_environment(store: Store, store_url: str, monkeypatch) -> None:
    import base64

    from cryptography.hazmat.primitives import serialization

    seed = KEY.private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv("ONEBAR_AUDIT_KEY", base64.b64encode(seed).decode())
    fill(store, 3)
    assert run_cli("audit", "checkpoint", "--db", store_url).exit_code == 0
    assert run_cli("audit", "verify", "--db", store_url).exit_code == 0  # the verifier key derives from it
    monkeypatch.setenv("ONEBAR_AUDIT_KEY", "not a key")
    bad = run_cli("audit", "checkpoint", "--db", store_url)
    assert bad.exit_code == 2 and "base64" in bad.stderr


# --- several processes append at once ------------------------------------------------------------------

WORKER = """
import sys
from onebar import audit
from onebar.store import open_store
store = open_store(sys.argv[1])
who, n, direct = sys.argv[2], int(sys.argv[3]), sys.argv[4] == "direct"
for i in range(n):
    # On PostgreSQL, a plain transaction: the chain's own lock must serialise the appends.
    ctx = store.engine.begin() if direct else store.write()
    with ctx as conn:
        audit.record(conn, actor=audit.Actor(person=who, via="api"), action="test.append", target=f"{who}:{i}")
"""


@pytest.mark.slow
def test_concurrent_appends_from_several_processes_form_one_chain(store: Store, store_url: str) -> None:
    direct = "direct" if store.dialect == "postgresql" else "store"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, store_url, f"w{w}", "40", direct], env=env) for w in range(4)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    with store.read() as conn:
        rows = list(audit.entries(conn))
        assert audit.verify(conn, None).ok
    assert [e.seq for e in rows] == list(range(1, 161))
    assert sorted(e.target for e in rows) == sorted(f"w{w}:{i}" for w in range(4) for i in range(40))


@pytest.mark.slow
def test_the_verifier_streams_large_logs_in_pages(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'big.db'}")
    events = [audit.Event(audit.Actor.system(), "x.y", f"t:{i}", {"i": i}) for i in range(5_500)]
    with store.write() as conn:
        audit.record_many(conn, events)
        audit.sign_checkpoint(conn, KEY)
    with store.read() as conn:
        v = audit.verify(conn, KEY.verifier)
    assert v.ok and v.entries == 5_500 and v.signed_through == 5_500
    store.close()


def test_checkpoints_extend_from_the_stored_frontier(store: Store) -> None:
    fill(store, 7)
    with store.write() as conn:
        first = audit.sign_checkpoint(conn, KEY)
    fill(store, 6, start=7)
    with store.write() as conn:
        second = audit.sign_checkpoint(conn, KEY)
        leaves = [e.hash for e in audit.entries(conn)]
    assert first is not None and second is not None
    assert second.root == merkle_root(leaves) and first.root == merkle_root(leaves[:7])
    assert second.prev == first.digest


def test_deleting_entry_one_without_checkpoints_is_named(store: Store, store_url: str) -> None:
    fill(store, 4)
    _exec(store, lambda c: c.execute(delete(audit_entries).where(audit_entries.c.seq == 1)))
    code, out = verify_json(store_url)
    assert code == 1 and out["first_bad"] == 1 and out["problems"][0]["kind"] == "deleted"


def test_checkpoints_kept_outside_the_store_catch_a_cut_tail(log: tuple[Store, str], tmp_path: Path) -> None:
    """Deleting the newest checkpoint with the entries it covers fools the store alone, not the kept copy."""
    store, url = log
    kept = tmp_path / "checkpoints.jsonl"
    assert run_cli("audit", "export", "--db", url, "--checkpoints", "-o", str(kept)).exit_code == 0

    def cut(conn: Connection) -> None:
        conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.size == 10))
        conn.execute(delete(audit_entries).where(audit_entries.c.seq >= 8))

    _exec(store, cut)
    assert verify_json(url)[0] == 0  # the store alone looks consistent
    code, out = verify_json(url, "--checkpoints", str(kept))
    assert code == 1 and out["first_bad"] == 8 and out["problems"][0]["kind"] == "truncated"


def test_a_replaced_checkpoint_differs_from_the_kept_copy(log: tuple[Store, str], tmp_path: Path) -> None:
    store, url = log
    kept = tmp_path / "checkpoints.jsonl"
    run_cli("audit", "export", "--db", url, "--checkpoints", "-o", str(kept))

    def resign(conn: Connection) -> None:
        from onebar.audit.keys import sign_note

        note = conn.execute(select(audit_checkpoints.c.note).where(audit_checkpoints.c.size == 5)).scalar_one()
        body = note.rpartition("\n\n")[0].replace("time 2025", "time 2024") + "\n"
        conn.execute(update(audit_checkpoints).where(audit_checkpoints.c.size == 5).values(note=sign_note(body, KEY)))

    _exec(store, resign)
    code, out = verify_json(url, "--checkpoints", str(kept))
    assert code == 1 and any(p["seq"] == 5 and "kept outside" in p["message"] for p in out["problems"])
