"""`Shas.find_all`: a full or abbreviated sha to its history index, as a plain scan would answer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from onebar.report.load import Shas

HEX = "0123456789abcdef"
sha = st.text(HEX, min_size=40, max_size=40)
HOW = ["as is", "upper", "near"]


def scan(shas: list[str], wanted: str) -> int:
    """The reference: the one sha the (lower-cased, stripped) text is a prefix of, if it is hex of 7+ digits."""
    s = wanted.strip().lower()
    if len(s) < 7 or any(ch not in HEX for ch in s):
        return -1
    hits = [i for i, full in enumerate(shas) if full.startswith(s)]
    return hits[0] if len(hits) == 1 else -1


def ask(full: str, n: int, how: str) -> str:
    """An abbreviation of `full`: as is, upper-cased, or a near miss (its last digit changed)."""
    text = full[:n]
    if how == "upper":
        return text.upper()
    if how == "near" and text:
        return text[:-1] + HEX[(HEX.index(text[-1]) + 1) % 16]
    return text


@settings(max_examples=200, deadline=None)
@given(
    base=st.lists(sha, min_size=1, max_size=30, unique=True),
    twins=st.lists(st.tuples(st.integers(0, 29), st.integers(7, 39), sha), max_size=5),
    asks=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 41), st.sampled_from(HOW)), max_size=40),
    odd=st.lists(st.text(max_size=45), max_size=5),
)
def test_find_all_answers_as_a_scan(
    base: list[str], twins: list[tuple[int, int, str]], asks: list[tuple[int, int, str]], odd: list[str]
) -> None:
    shas = list(base)
    for k, keep, tail in twins:  # shas sharing a long prefix with another: ambiguous abbreviations
        other = shas[k % len(shas)][:keep] + tail[keep:]
        if other not in shas:
            shas.append(other)
    found = Shas(np.array([s.encode() for s in shas], dtype="S40"))
    wanted = [ask(shas[i % len(shas)] if i < 50 else "f" * 40, n, how) for i, n, how in asks] + odd
    assert found.find_all(wanted) == [scan(shas, w) for w in wanted]
    assert all(found.find(w) == scan(shas, w) for w in wanted[:5])
