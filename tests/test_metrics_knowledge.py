"""DOA and truck factor, checked against hand-computed values of the published formula."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onebar.metrics.knowledge import (
    alive_files,
    doa_scores,
    file_authors,
    files_lost,
    loss_share,
    truck_factor,
)


def test_doa_formula_by_hand() -> None:
    touches = [("alice", "A")] + [("bob", "M")] * 5
    scores = doa_scores(touches)
    assert scores["alice"] == pytest.approx(3.293 + 1.098 - 0.321 * math.log(6))
    assert scores["bob"] == pytest.approx(3.293 + 0.164 * 5)
    assert file_authors(touches) == {"alice", "bob"}  # alice: 3.818 / 4.113 = 0.93 > 0.75


def test_creator_loses_authorship_after_many_changes_by_others() -> None:
    touches = [("alice", "A")] + [("bob", "M")] * 10
    # alice: 4.391 - 0.321 ln 11 = 3.621; bob: 4.933; 3.621 / 4.933 = 0.734 <= 0.75
    assert file_authors(touches) == {"bob"}


def test_second_add_by_another_developer_is_a_secondary_author() -> None:
    touches = [("alice", "A"), ("alice", "D"), ("bob", "A")]
    scores = doa_scores(touches)
    assert scores["bob"] == pytest.approx(3.293 + 1.098)
    assert file_authors(touches) == {"alice", "bob"}


def test_deletions_add_no_authorship() -> None:
    assert "carol" not in doa_scores([("alice", "A"), ("carol", "D")])


def test_alive_files_replays_adds_and_deletes() -> None:
    assert alive_files([("a", "A"), ("b", "A"), ("a", "D"), ("c", "A"), ("c", "M")]) == {"b", "c"}


def test_truck_factor_greedy() -> None:
    authors = {
        "f1": frozenset({"alice"}),
        "f2": frozenset({"alice"}),
        "f3": frozenset({"alice", "bob"}),
        "f4": frozenset({"bob"}),
    }
    tf = truck_factor(authors)
    assert (tf.value, tf.people) == (2, ("alice", "bob"))  # after alice, 2/4 still covered: not < 50%
    authors["f4"] = frozenset({"carol"})
    authors["f3"] = frozenset({"alice"})
    tf = truck_factor(authors)
    assert (tf.value, tf.people) == (1, ("alice",))


def test_pruned_variant_drops_minor_authors() -> None:
    authors = {f"f{i}": frozenset({"alice"}) for i in range(20)}
    authors.update({f"g{i}": frozenset({"bob"}) for i in range(19)})
    authors["h"] = frozenset({"carol"})
    assert truck_factor(authors).value == 2
    assert truck_factor(authors, prune=True).value == 2


def test_offboarding_loss() -> None:
    authors = {"a": frozenset({"x"}), "b": frozenset({"x", "y"}), "c": frozenset({"y"}), "d": frozenset()}
    assert files_lost(authors, {"x"}) == ["a"]
    assert loss_share(authors, {"x", "y"}) == (3, 0.75)


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(
        st.text("abcdefgh", min_size=1, max_size=3),
        st.frozensets(st.sampled_from(["p1", "p2", "p3", "p4", "p5"]), max_size=3),
        min_size=1,
        max_size=30,
    )
)
def test_truck_factor_leaves_fewer_than_half_covered(authors: dict[str, frozenset[str]]) -> None:
    tf = truck_factor(authors)
    gone = set(tf.people)
    covered = sum(1 for p in authors.values() if p - gone)
    if tf.value:
        assert covered / len(authors) < 0.5 or not any(p - gone for p in authors.values())
        # one fewer removal would have left at least half covered
        before = set(tf.people[:-1])
        assert sum(1 for p in authors.values() if p - before) / len(authors) >= 0.5
