"""Knowledge risk pinned by hand: DOA inputs and thresholds, truck-factor pruning, the report section."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onebar.metrics.knowledge import (
    ABSOLUTE,
    MODEL,
    TOP_AUTHORS,
    ComponentKnowledge,
    PersonRef,
    TopAuthor,
    TruckFactor,
    alive_files,
    authors_of,
    counts,
    files_by_org,
    files_lost,
    group,
    loss_share,
    scores_of,
    section,
    sole_owners,
    truck_factor,
)
from onebar.metrics.model import UNKNOWN_ORG, Contributor

# --- DOA ----------------------------------------------------------------------------------------------


def test_counts_adds_modifications_and_type_changes_and_skips_deletions() -> None:
    touches = [("a", "M"), ("a", "A"), ("a", "T"), ("b", "M"), ("b", "D"), ("c", "D"), ("b", "M"), ("d", "A")]
    assert counts(touches) == {"a": (True, 2), "b": (False, 2), "d": (True, 0)}
    assert counts(reversed(touches)) == counts(touches)  # order does not matter


def test_scores_by_hand_with_modifications_by_others() -> None:
    got = scores_of({"a": (True, 2), "b": (False, 3)})  # 5 modifications in all
    assert got["a"] == pytest.approx(3.293 + 1.098 + 0.164 * 2 - 0.321 * math.log(1 + 3))
    assert got["b"] == pytest.approx(3.293 + 0.164 * 3 - 0.321 * math.log(1 + 2))


def test_the_absolute_threshold_is_met_at_equality() -> None:
    # Nobody modified the file and nobody added it (its adder's changes were all deletions): DOA is
    # exactly 3.293 for each, which meets the absolute threshold, and the ratio is 1.
    assert scores_of({"a": (False, 0)}) == {"a": ABSOLUTE}
    assert authors_of({"a": (False, 0), "b": (False, 0)}) == {"a", "b"}


def test_below_the_absolute_threshold_only_the_first_adder_authors() -> None:
    # Two people with one modification each: 3.293 + 0.164 - 0.321 ln 2 = 3.2345 < 3.293; no author.
    assert authors_of({"a": (False, 1), "b": (False, 1)}) == frozenset()
    # The adder of a file 30 others changed once: 4.391 - 0.321 ln 31 = 3.289 < 3.293, still an author
    # (FA); each of the 30: 3.457 - 0.321 ln 30 = 2.365, 0.719 of the best: not.
    per_dev = {"adder": (True, 0), **{f"p{i:02d}": (False, 1) for i in range(30)}}
    assert scores_of(per_dev)["adder"] == pytest.approx(3.2887, abs=1e-4)
    assert authors_of(per_dev) == {"adder"}


def test_the_normalised_threshold_is_relative_to_the_best() -> None:
    # a added it and modified it 4 times, b modified it 3 times: a 3.293 + 1.098 + 0.656 - 0.321 ln 4
    # = 4.602; b 3.293 + 0.492 - 0.321 ln 5 = 3.268: 0.71 of a, below 3.293 and no FA.
    assert authors_of({"a": (True, 4), "b": (False, 3)}) == {"a"}
    # a (1 modification) 4.038, b (4) 3.727: b at 0.92 of the best and above 3.293, an author.
    scores = scores_of({"a": (True, 1), "b": (False, 4)})
    assert scores["b"] / scores["a"] > 0.75 and scores["b"] > ABSOLUTE
    assert authors_of({"a": (True, 1), "b": (False, 4)}) == {"a", "b"}
    assert authors_of({}) == frozenset()


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdef"), st.tuples(st.booleans(), st.integers(0, 40)), min_size=1))
def test_authors_are_exactly_those_near_the_best_and_above_the_floor_or_adders(
    per_dev: dict[str, tuple[bool, int]],
) -> None:
    scores = scores_of(per_dev)
    best = max(scores.values())
    want = {d for d, s in scores.items() if s / best > 0.75 and (s >= 3.293 or per_dev[d][0])}
    assert authors_of(per_dev) == want
    for d, (added, mods) in per_dev.items():  # the formula, term by term
        others = sum(m for e, (_, m) in per_dev.items() if e != d)
        assert scores[d] == pytest.approx(3.293 + 1.098 * added + 0.164 * mods - 0.321 * math.log(1 + others))


def test_alive_files_keeps_a_file_added_again_after_its_deletion() -> None:
    assert alive_files([("a", "A"), ("a", "D"), ("a", "A"), ("b", "A"), ("b", "T"), ("c", "M")]) == {"a", "b", "c"}
    assert alive_files([]) == set()


# --- truck factor -------------------------------------------------------------------------------------


def test_no_files_no_truck_factor() -> None:
    assert truck_factor({}) == TruckFactor(0, (), 0, 0)
    assert truck_factor({}, prune=True) == TruckFactor(0, (), 0, 0)


def test_orphans_at_start_and_nobody_to_remove() -> None:
    authors = {"f": frozenset[str](), "g": frozenset[str]()}
    assert truck_factor(authors, prune=True) == TruckFactor(0, (), 2, 2)
    mixed = {"f": frozenset[str](), "g": frozenset({"a"}), "h": frozenset({"a"})}
    assert truck_factor(mixed) == TruckFactor(1, ("a",), 3, 1)


def test_pruning_keeps_people_with_exactly_a_tenth_of_the_top_authors_files() -> None:
    """alice authors 10 files, ten people one file each. Removing alice leaves 10 of 20 files covered
    (half: go on), removing p00 leaves 9 (stop): truck factor 2. p00 has 1 file, 10% of alice's 10:
    pruning keeps them."""
    authors = {f"a{i}": frozenset({"alice"}) for i in range(10)}
    authors.update({f"f{i}": frozenset({f"p{i:02d}"}) for i in range(10)})
    assert truck_factor(authors) == TruckFactor(2, ("alice", "p00"), 20, 0)
    assert truck_factor(authors, prune=True) == TruckFactor(2, ("alice", "p00"), 20, 0)


def test_pruning_drops_people_below_a_tenth_of_the_top_authors_files() -> None:
    """The same with 11 and 11: p00's 1 file is less than 1.1 (10% of 11); pruned, truck factor 1."""
    authors = {f"a{i}": frozenset({"alice"}) for i in range(11)}
    authors.update({f"f{i}": frozenset({f"p{i:02d}"}) for i in range(11)})
    assert truck_factor(authors) == TruckFactor(2, ("alice", "p00"), 22, 0)
    assert truck_factor(authors, prune=True) == TruckFactor(1, ("alice",), 22, 0)


def test_pruning_measures_files_before_removal_not_what_is_left() -> None:
    # bob and alice share 3 files, alice has 6 more: alice first (9), then bob, who still counts his
    # 3 files (33% of 9), not the 0 left after alice went.
    authors = {f"s{i}": frozenset({"alice", "bob"}) for i in range(3)}
    authors.update({f"a{i}": frozenset({"alice"}) for i in range(6)})
    authors.update({f"b{i}": frozenset({"bob"}) for i in range(6)})
    assert truck_factor(authors, prune=True) == TruckFactor(2, ("alice", "bob"), 15, 0)


def test_greedy_removes_the_author_of_most_files_ties_alphabetically() -> None:
    authors = {
        "1": frozenset({"zed"}),
        "2": frozenset({"zed"}),
        "3": frozenset({"amy", "zed"}),
        "4": frozenset({"amy"}),
        "5": frozenset({"bo"}),
        "6": frozenset({"bo"}),
    }
    # zed 3, amy 2, bo 2: zed goes (4 of 6 covered), then amy before bo (2 of 6 covered: stop).
    assert truck_factor(authors).people == ("zed", "amy")


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.text("abcdefghij", min_size=1, max_size=2),
        st.frozensets(st.sampled_from(["p1", "p2", "p3", "p4", "p5", "p6"]), max_size=3),
        max_size=40,
    )
)
def test_pruning_keeps_exactly_the_removed_with_a_tenth_of_the_top_files(authors: dict[str, frozenset[str]]) -> None:
    full, pruned = truck_factor(authors), truck_factor(authors, prune=True)
    files = {p: sum(1 for people in authors.values() if p in people) for p in full.people}
    keep = tuple(p for p in full.people if full.people and files[p] * 10 >= files[full.people[0]])
    assert pruned.people == keep and pruned.value == len(keep)
    assert (pruned.files, pruned.orphans_at_start) == (full.files, full.orphans_at_start)
    assert full.files == len(authors)
    assert full.orphans_at_start == sum(1 for people in authors.values() if not people)


def test_files_lost_leaves_out_files_nobody_authored() -> None:
    authors = {"a": frozenset({"x"}), "b": frozenset({"x", "y"}), "c": frozenset[str]()}
    assert files_lost(authors, {"x", "y"}) == ["a", "b"]
    assert files_lost(authors, set()) == []
    assert loss_share({}, {"x"}) == (0, None)
    assert loss_share(authors, {"x"}) == (1, pytest.approx(1 / 3))


def test_sole_owners_are_the_files_of_one_group_alone() -> None:
    authors = {
        "z": frozenset({"a1", "a2"}),
        "y": frozenset({"a1", "b1"}),
        "x": frozenset({"b1"}),
        "w": frozenset({"a2"}),
        "v": frozenset[str](),
    }
    org = {"a1": "A", "a2": "A", "b1": "B"}
    assert sole_owners(authors, org.__getitem__) == {"A": ["w", "z"], "B": ["x"]}


def test_group_splits_by_component_and_leaves_out_the_rest() -> None:
    authors = {"src/a": frozenset({"p"}), "src/b": frozenset({"q"}), "README": frozenset({"p"})}
    comp = {"src/a": "core", "src/b": "core"}
    assert group(authors, comp.get) == {"core": {"src/a": frozenset({"p"}), "src/b": frozenset({"q"})}}


def test_files_by_org_counts_a_file_once_per_organisation() -> None:
    authors = {"f": frozenset({"a1", "a2"}), "g": frozenset({"a1", "b1"}), "h": frozenset[str]()}
    org = {"a1": "A", "a2": "A", "b1": "B"}
    got = files_by_org(authors, org.__getitem__)
    assert got == {"A": 2, "B": 1} and list(got) == ["A", "B"]


# --- the report section -------------------------------------------------------------------------------


def _people() -> dict[str, Contributor]:
    return {
        "ann": Contributor("ann", "acme", "human", "Ann A."),
        "ben": Contributor("ben", "acme", "human", "Ben B."),
        "cy": Contributor("cy", "partner", "human", "Cy C."),
    }


def test_section_by_hand() -> None:
    """Files: core/1-3 by ann (3), core/3 also by cy; ui/1 by cy and ben; ui/2 by ghost (not a known
    person); docs by nobody (in no component). Truck factor: ann goes (4 of 6 keep an author), then
    cy (ui/1 by ben, ui/2: 2 of 6, stop): 2."""
    authors = {
        "core/1": frozenset({"ann"}),
        "core/2": frozenset({"ann"}),
        "core/3": frozenset({"ann", "cy"}),
        "ui/1": frozenset({"cy", "ben"}),
        "ui/2": frozenset({"ghost"}),
        "docs": frozenset[str](),
    }
    component = {"core/1": "core", "core/2": "core", "core/3": "core", "ui/1": "ui", "ui/2": "ui"}
    k = section(authors, component, _people(), components_defined=True)
    ann, cy = PersonRef("ann", "Ann A.", "acme"), PersonRef("cy", "Cy C.", "partner")
    assert k.model == MODEL
    assert (k.files, k.orphan_files, k.truck_factor) == (6, 1, 2)
    assert k.truck_factor_people == (ann, cy)
    assert k.top_authors == (
        TopAuthor("ann", "Ann A.", "acme", 3),
        TopAuthor("cy", "Cy C.", "partner", 2),
        TopAuthor("ben", "Ben B.", "acme", 1),
        TopAuthor("ghost", "ghost", UNKNOWN_ORG, 1),
    )
    assert k.files_by_org == {UNKNOWN_ORG: 1, "acme": 4, "partner": 2}
    assert k.components == {
        # core: ann goes, only core/3 keeps an author (1 of 3): truck factor 1.
        "core": ComponentKnowledge(3, 1, (ann,), ("acme", "partner"), {"acme": 3, "partner": 1}, False, 0),
        # ui: one file each, alphabetical: ben (ui/1 still has cy: 2 of 2), cy (1 of 2: half, go on), ghost.
        "ui": ComponentKnowledge(
            2,
            3,
            (PersonRef("ben", "Ben B.", "acme"), cy, PersonRef("ghost", "ghost", UNKNOWN_ORG)),
            (UNKNOWN_ORG, "acme", "partner"),
            {UNKNOWN_ORG: 1, "acme": 1, "partner": 1},
            False,
            0,
        ),
    }
    assert k.single_org_components == ()
    assert k.reasons == {}


def test_section_single_organisation_components_and_reasons() -> None:
    authors = {"a/1": frozenset({"ann", "ben"}), "b/1": frozenset({"cy"}), "b/2": frozenset({"ann"})}
    k = section(authors, {"a/1": "a", "b/1": "b", "b/2": "b"}, _people(), components_defined=True)
    assert k.single_org_components == ("a",)
    assert k.components["a"].single_org and not k.components["b"].single_org
    assert k.components["a"].files_by_org == {"acme": 1}
    empty = section({}, {}, _people(), components_defined=False)
    assert empty.truck_factor is None and empty.files == 0 and empty.top_authors == ()
    assert empty.reasons == {
        "truck_factor": "no file with a known history at the end of the window",
        "components": "the charter defines no components",
    }
    assert empty.components == {}


def test_section_lists_at_most_fifteen_top_authors_most_files_first() -> None:
    authors = {f"f{i}-{j}": frozenset({f"p{i:02d}"}) for i in range(20) for j in range(i % 4 + 1)}
    k = section(authors, {}, {}, components_defined=False)
    assert len(k.top_authors) == TOP_AUTHORS == 15
    got = [(t.person, t.files) for t in k.top_authors]
    assert got[:6] == [("p03", 4), ("p07", 4), ("p11", 4), ("p15", 4), ("p19", 4), ("p02", 3)]
    assert got == sorted(got, key=lambda kv: (-kv[1], kv[0]))
    assert {p for p, n in got} == {f"p{i:02d}" for i in range(20) if i % 4}  # 5 each of 4, 3, 2 files
    assert k.reasons == {"components": "the charter defines no components"}
