"""Benchmark: append 100,000 audit entries and verify the chain, against `sha256sum` of the same bytes.

    python bench/bench_audit.py [--entries 100000] [--batch 1000] [--single 2000] [--db URL]

Appends ENTRIES entries to a fresh store (SQLite in a temporary directory unless --db names a
PostgreSQL database; its audit tables are emptied first) in transactions of BATCH entries, signs one
checkpoint, then verifies the whole log with the checkpoint's key. SINGLE more entries are appended one
transaction each, as the service writes them, for the per-change cost. The baseline, measured in the
same run, is `sha256sum` over a file holding every byte the log hashes (each entry's canonical
encoding and its payload); the figures are the ratios.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import delete  # noqa: E402

from onebar import audit  # noqa: E402
from onebar.audit.chain import entry_bytes  # noqa: E402
from onebar.store import open_store  # noqa: E402
from onebar.store.schema_access import audit_checkpoints, audit_entries  # noqa: E402

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def event(i: int) -> audit.Event:
    """A realistic entry: an access change with a small payload."""
    return audit.Event(
        actor=audit.Actor(person=f"person{i % 40}", token=f"tok{i % 7}", org=f"org{i % 5}", via="api"),
        action=("access.grant.request", "access.grant.approve", "gate.run.record", "token.create")[i % 4],
        target=f"grant:{i}",
        payload={"level": "write", "scope": {"kind": "component", "name": f"comp{i % 30}"}, "until": "2026-06-30"},
        at=T0 + timedelta(seconds=i),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--single", type=int, default=2000)
    ap.add_argument("--db", default=None, help="Store URL (default: a fresh SQLite file)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'audit.db'}"
        store = open_store(url)
        with store.write() as conn:
            conn.execute(delete(audit_checkpoints))
            conn.execute(delete(audit_entries))
        key = audit.SignerKey.generate()

        start = time.perf_counter()
        for lo in range(0, args.entries, args.batch):
            with store.write() as conn:
                audit.record_many(conn, [event(i) for i in range(lo, min(lo + args.batch, args.entries))])
        t_append = time.perf_counter() - start

        start = time.perf_counter()
        with store.write() as conn:
            audit.sign_checkpoint(conn, key)
        t_checkpoint = time.perf_counter() - start

        start = time.perf_counter()
        with store.read() as conn:
            result = audit.verify(conn, key.verifier)
        t_verify = time.perf_counter() - start
        assert result.ok and result.entries == args.entries, result.to_dict()

        # The same bytes the log hashes, hashed by sha256sum.
        blob = Path(tmp) / "hashed.bin"
        size = 0
        with store.read() as conn, blob.open("wb") as fh:
            for e in audit.entries(conn):
                data = entry_bytes(
                    e.seq, e.at, e.actor, e.action, e.target, e.outcome, e.payload_sha256, e.prev_hash
                ) + (e.payload or "").encode("utf-8")
                fh.write(data)
                size += len(data)
        start = time.perf_counter()
        subprocess.run(["sha256sum", str(blob)], check=True, capture_output=True)
        t_sha = time.perf_counter() - start

        start = time.perf_counter()
        for i in range(args.entries, args.entries + args.single):
            with store.write() as conn:
                ev = event(i)
                audit.record(conn, actor=ev.actor, action=ev.action, target=ev.target, payload=ev.payload, at=ev.at)
        t_single = time.perf_counter() - start
        store.close()

    print(f"store: {url.split('://')[0]}, {args.entries:,} entries in transactions of {args.batch}")
    print(f"hashed bytes: {size / 1e6:.1f} MB")
    print(f"sha256sum of those bytes:      {t_sha:8.3f} s")
    print(f"append {args.entries:,} entries:        {t_append:8.3f} s  ratio {t_append / t_sha:6.1f}x")
    print(f"sign one checkpoint:           {t_checkpoint:8.3f} s  ratio {t_checkpoint / t_sha:6.1f}x")
    print(f"verify chain + checkpoint:     {t_verify:8.3f} s  ratio {t_verify / t_sha:6.1f}x")
    print(
        f"append {args.single:,} entries, one transaction each: {t_single:.3f} s "
        f"({t_single / args.single * 1e3:.2f} ms an entry)"
    )


if __name__ == "__main__":
    main()
