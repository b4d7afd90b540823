"""The small history several DORA test modules compute by hand."""

from __future__ import annotations

from onebar.metrics.model import Deployment, History, HistoryBuilder

H = 3600


def story() -> tuple[History, list[Deployment]]:
    """c0 acme, c1 partner -> v1.0 (20 h); c2 (acme) fixes c1 -> v1.1 (50 h); c3 partner -> v1.2 (70 h)."""
    b = HistoryBuilder()
    c0 = b.add("c0", author="alice", org="acme", at=0)
    c1 = b.add("c1", (c0,), author="bob", org="partner", at=10 * H)
    c2 = b.add("c2", (c1,), author="alice", org="acme", at=30 * H)
    b.fixes[c2] = (c1,)
    c3 = b.add("c3", (c2,), author="bob", org="partner", at=60 * H)
    deps = [Deployment("v1.0", c1, 20 * H), Deployment("v1.1", c2, 50 * H), Deployment("v1.2", c3, 70 * H)]
    return b.build(), deps
