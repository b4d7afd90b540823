"""Overlap pinned by hand: the minimum's boundary, the team block, intervals, regimes and hand-offs.

Winter 2024 in UTC: Berlin 9-17 is 08-16, New York 9-17 is 14-22, Kolkata 9-17 is 03:30-11:30.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onebar.metrics.overlap import (
    Handoff,
    OrgHours,
    Schedule,
    Shared,
    handoffs,
    hours,
    intersect,
    org_time,
    overlap,
    regime_weeks,
    shifts,
    union,
)

BERLIN = Schedule("hans", "acme", "Europe/Berlin")
NEW_YORK = Schedule("nina", "nyco", "America/New_York")
KOLKATA = Schedule("ravi", "indco", "Asia/Kolkata")
WINTER = date(2024, 1, 10)  # a Wednesday; its week starts 2024-01-08
MONDAY = date(2024, 1, 8)


def _utc(day: date, hh: int, mm: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC).timestamp())


# --- meets_minimum and the team block -----------------------------------------------------------------


@pytest.mark.parametrize(("minimum", "meets"), [(1.99, True), (2.0, True), (2.01, False)])
def test_meets_minimum_at_and_around_the_daily_window(minimum: float, meets: bool) -> None:
    out = overlap([BERLIN, NEW_YORK], WINTER, minimum=minimum)
    want = Shared(hours_per_week=10.0, sessions=5, daily_window_hours=2.0, meets_minimum=meets)
    assert out.minimum_hours == minimum
    assert out.pairs[0].shared == want
    # With two organisations the team is the pair: the same block, the same verdict.
    assert out.team == want
    assert out.reasons == {}


def test_no_shared_time_never_meets_a_positive_minimum() -> None:
    out = overlap([NEW_YORK, KOLKATA], WINTER, minimum=0.5)  # 14-22 and 03:30-11:30 UTC
    assert out.pairs[0].shared == Shared(0.0, 0, 0.0, False)
    assert out.team == Shared(0.0, 0, 0.0, False)
    assert overlap([NEW_YORK, KOLKATA], WINTER, minimum=0.0).team == Shared(0.0, 0, 0.0, True)


def test_one_organisation_has_no_pairs_and_no_team() -> None:
    late = Schedule("lena", "acme", "Europe/Berlin", time(13), time(21))
    out = overlap([BERLIN, late], WINTER)
    assert out.pairs == () and out.team is None
    assert out.reasons == {"pairs": "fewer than two organisations with people"}
    assert out.organisations == {"acme": OrgHours(60.0, 2)}  # 08-20 UTC, five days
    assert out.week_of == MONDAY
    nobody = overlap([], WINTER)
    assert (nobody.pairs, nobody.team, dict(nobody.organisations), nobody.handoffs) == ((), None, {}, ())


def test_three_organisations_share_only_what_all_three_do() -> None:
    # Berlin 08-16, Kolkata 03:30-11:30, and a London org 9-17 (09-17): all three 09-11:30, 2.5 h a day.
    london = Schedule("liz", "ukco", "Europe/London")
    out = overlap([BERLIN, KOLKATA, london], WINTER, minimum=2.5)
    assert out.team == Shared(12.5, 5, 2.5, True)
    pairs = {p.orgs: p.shared.daily_window_hours for p in out.pairs}
    assert pairs == {("acme", "indco"): 3.5, ("acme", "ukco"): 7.0, ("indco", "ukco"): 2.5}


def test_sessions_are_rounded_to_the_hundredth_hour() -> None:
    # Berlin 9-17 and New York 10:40-18:40 (15:40-23:40 UTC): 20 minutes a day, 1 h 40 a week.
    ny = Schedule("nina", "nyco", "America/New_York", time(10, 40), time(18, 40))
    assert overlap([BERLIN, ny], WINTER, minimum=0.33).team == Shared(1.67, 5, 0.33, True)
    assert overlap([BERLIN, ny], WINTER, minimum=0.34).team == Shared(1.67, 5, 0.33, False)


def test_the_daily_window_is_the_median_session() -> None:
    # Monday to Wednesday 2 h (08-16 against 14-22), Thursday and Friday 6 h (against 10-18).
    early = Schedule("nick", "nyco", "America/New_York", time(5), time(13), ("thu", "fri"))
    ny = replace(NEW_YORK, days=("mon", "tue", "wed"))
    shared = overlap([BERLIN, ny, early], WINTER).pairs[0].shared
    assert (shared.sessions, shared.hours_per_week, shared.daily_window_hours) == (5, 18.0, 2.0)


# --- organisations' hours -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("other", "weekly"),
    [
        (BERLIN, 40.0),  # the same hours add nothing
        (replace(BERLIN, person="x"), 40.0),
        (replace(BERLIN, timezone="America/New_York"), 70.0),  # 08-16 and 14-22: 08-22
        (replace(BERLIN, start=time(7)), 50.0),
        (replace(BERLIN, end=time(19)), 50.0),
        (replace(BERLIN, days=("mon", "tue", "wed", "thu", "fri", "sat")), 48.0),
    ],
)
def test_an_organisation_is_at_work_when_any_of_its_people_is(other: Schedule, weekly: float) -> None:
    out = overlap([BERLIN, other, NEW_YORK], WINTER)
    assert out.organisations["acme"] == OrgHours(weekly, 2)
    assert hours(org_time([BERLIN, other], MONDAY)["acme"]) == weekly


def test_people_after_a_duplicate_still_count() -> None:
    ny_acme = replace(NEW_YORK, person="nick", org="acme")
    out = overlap([BERLIN, replace(BERLIN, person="x"), ny_acme, NEW_YORK], WINTER)
    assert out.organisations == {"acme": OrgHours(70.0, 3), "nyco": OrgHours(40.0, 1)}


def test_a_whole_day_shared_is_a_24_hour_window() -> None:
    day = Schedule("d", "dayco", "UTC", time(0), time(0), ("mon",))
    out = overlap([day, replace(day, person="e", org="eveco")], WINTER)
    assert out.team == Shared(24.0, 1, 24.0, True)


def test_organisation_hours_are_rounded_to_the_hundredth() -> None:
    odd = Schedule("olga", "oddco", "UTC", time(9), time(17, 20))  # 8 h 20 a day: 41.666... a week
    out = overlap([odd, BERLIN], WINTER)
    assert out.organisations["oddco"].hours_per_week == 41.67
    assert out.organisations["acme"] == OrgHours(40.0, 1)


def test_org_time_is_per_organisation_sorted() -> None:
    got = org_time([NEW_YORK, BERLIN, replace(BERLIN, person="b", org="aaa")], MONDAY)
    assert list(got) == ["aaa", "acme", "nyco"]
    days = [date(2024, 1, 8 + i) for i in range(5)]
    assert got["aaa"] == got["acme"] == [(_utc(d, 8), _utc(d, 16)) for d in days]


# --- intervals ----------------------------------------------------------------------------------------------


def test_union_merges_overlapping_and_touching_intervals() -> None:
    assert union([(20, 30), (5, 10), (0, 5), (25, 26), (31, 40)]) == [(0, 10), (20, 30), (31, 40)]
    assert union([(0, 10), (2, 4)]) == [(0, 10)]
    assert union([]) == []


def test_intersect_keeps_positive_stretches_only() -> None:
    assert intersect([(0, 5)], [(5, 10)]) == []  # touching is not shared
    assert intersect([(0, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)]
    assert intersect([(5, 25)], [(0, 10), (20, 30)]) == [(5, 10), (20, 25)]
    assert intersect([(0, 10)], [(0, 10)]) == [(0, 10)]
    assert intersect([(0, 10), (10, 20)], [(0, 20)]) == [(0, 10), (10, 20)]
    assert intersect([], [(0, 10)]) == []
    assert hours([(0, 3600), (7200, 9000)]) == 1.5


def _intervals() -> st.SearchStrategy[list[tuple[int, int]]]:
    return st.lists(st.tuples(st.integers(0, 100), st.integers(1, 20)), max_size=8).map(
        lambda xs: union([(a, a + n) for a, n in xs])
    )


@settings(max_examples=200, deadline=None)
@given(_intervals(), _intervals())
def test_intersect_is_the_set_intersection(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> None:
    def points(iv: list[tuple[int, int]]) -> set[int]:
        return {t for a, b in iv for t in range(a, b)}

    got = intersect(x, y)
    assert points(got) == points(x) & points(y)
    assert all(a < b for a, b in got) and got == sorted(got)
    assert intersect(y, x) == got
    assert points(union(x + y)) == points(x) | points(y)


# --- shifts and the year's regimes --------------------------------------------------------------------------


def test_shifts_follow_the_local_calendar() -> None:
    assert shifts(BERLIN, MONDAY)[0] == (_utc(MONDAY, 8), _utc(MONDAY, 16))
    assert len(shifts(BERLIN, MONDAY)) == 5
    weekend = Schedule("w", "o", "UTC", days=("sun", "sat"))
    assert shifts(weekend, MONDAY) == [
        (_utc(date(2024, 1, 13), 9), _utc(date(2024, 1, 13), 17)),
        (_utc(date(2024, 1, 14), 9), _utc(date(2024, 1, 14), 17)),
    ]
    # A shift ending at its start is a whole day; one ending before it ends the next day.
    day = Schedule("d", "o", "UTC", time(9), time(9), ("mon",))
    assert shifts(day, MONDAY) == [(_utc(MONDAY, 9), _utc(date(2024, 1, 9), 9))]
    night = Schedule("n", "o", "UTC", time(22), time(6), ("fri",))
    assert shifts(night, MONDAY) == [(_utc(date(2024, 1, 12), 22), _utc(date(2024, 1, 13), 6))]
    # The day Berlin's clocks go forward (2024-03-31, a Sunday) the 9-17 shift is 07-15 UTC.
    sunday = Schedule("s", "o", "Europe/Berlin", days=("sun",))
    assert shifts(sunday, date(2024, 3, 25)) == [(_utc(date(2024, 3, 31), 7), _utc(date(2024, 3, 31), 15))]


def test_regime_weeks_are_the_first_monday_of_each_set_of_offsets() -> None:
    assert regime_weeks([Schedule("u", "o", "UTC")], 2024) == [date(2024, 1, 1)]
    assert regime_weeks([Schedule("u", "o", "UTC")], 2025) == [date(2024, 12, 30)]  # the week of 1 January
    assert regime_weeks([], 2024) == [date(2024, 1, 1)]
    # New York switches on 10 March and 3 November, Berlin on 31 March and 27 October (Sundays):
    # winter; the week ending in New York's switch; New York ahead; the week ending in Berlin's
    # switch; summer; the week ending in Berlin's return; New York still on summer time.
    assert regime_weeks([BERLIN, NEW_YORK], 2024) == [
        date(2024, 1, 1),
        date(2024, 3, 4),
        date(2024, 3, 11),
        date(2024, 3, 25),
        date(2024, 4, 1),
        date(2024, 10, 21),
        date(2024, 10, 28),
    ]


def test_the_pair_range_spans_the_years_regimes() -> None:
    # Berlin and New York: 2 h a day in winter and in summer, 3 h in the weeks only New York has
    # switched (March, and the week before its return in November).
    out = overlap([BERLIN, NEW_YORK], WINTER)
    assert out.pairs[0].daily_window_range_hours == (2.0, 3.0)
    assert out.pairs[0].orgs == ("acme", "nyco")


# --- hand-offs ----------------------------------------------------------------------------------------------------


def test_organisations_on_one_shift_hand_off_together() -> None:
    berlinco = Schedule("bea", "berlinco", "Europe/Berlin")
    got = handoffs([NEW_YORK, berlinco, BERLIN], WINTER)
    assert got == [
        Handoff("acme, berlinco", "nyco", "16:00", "14:00", -2.0),
        Handoff("nyco", "acme, berlinco", "22:00", "08:00", 10.0),
    ]


def test_handoffs_need_two_shifts_that_day() -> None:
    assert handoffs([BERLIN, Schedule("bea", "berlinco", "Europe/Berlin")], WINTER) == []
    assert handoffs([BERLIN], WINTER) == []
    weekend = Schedule("w", "nyco", "America/New_York", days=("sat", "sun"))
    assert handoffs([BERLIN, weekend], WINTER) == []  # nobody at nyco works on Wednesdays
    # Someone off that day is skipped, and the people after them still count.
    assert [(h.from_, h.to) for h in handoffs([weekend, BERLIN, NEW_YORK], WINTER)] == [
        ("acme", "nyco"),
        ("nyco", "acme"),
    ]


def test_a_shift_lost_to_the_clocks_going_forward_is_no_shift() -> None:
    """Berlin 02:00-03:00 on 2024-03-31 does not exist: both ends are 01:00 UTC. That person is left
    out of the hand-offs, and the people after them still count."""
    lost = Schedule("g", "ghostco", "Europe/Berlin", time(2), time(3), ("sun",))
    utc = Schedule("a", "utcco", "UTC", days=("sun",))
    ny = Schedule("b", "nyco", "America/New_York", days=("sun",))  # on EDT already: 13-21 UTC
    assert shifts(lost, date(2024, 3, 25)) == [(_utc(date(2024, 3, 31), 1), _utc(date(2024, 3, 31), 1))]
    assert handoffs([lost, utc, ny], date(2024, 3, 31)) == [
        Handoff("utcco", "nyco", "17:00", "13:00", -4.0),
        Handoff("nyco", "utcco", "21:00", "09:00", 12.0),
    ]


def test_the_report_hands_off_on_the_weeks_wednesday() -> None:
    early_week = replace(NEW_YORK, days=("mon", "tue", "wed"))
    for day in (date(2024, 1, 8), date(2024, 1, 10), date(2024, 1, 14)):
        got = overlap([BERLIN, early_week], day).handoffs
        assert [(h.from_, h.to, h.gap_hours) for h in got] == [("acme", "nyco", -2.0), ("nyco", "acme", 10.0)]


def test_an_organisations_day_runs_from_its_first_start_to_its_last_end() -> None:
    late = Schedule("lena", "acme", "Europe/Berlin", time(13), time(21))  # 12-20 UTC
    got = handoffs([late, KOLKATA, BERLIN], WINTER)
    assert got == [
        Handoff("indco", "acme", "11:30", "08:00", -3.5),
        Handoff("acme", "indco", "20:00", "03:30", 7.5),
    ]


def test_the_handoff_is_read_on_the_day_asked_in_each_local_calendar() -> None:
    # A UTC night shift 22-06 starting on the Wednesday, and Kolkata's 03:30-11:30 that day.
    night = Schedule("n", "nightco", "UTC", time(22), time(6))
    got = handoffs([night, KOLKATA], WINTER)
    assert got == [
        Handoff("indco", "nightco", "11:30", "22:00", 10.5),
        Handoff("nightco", "indco", "06:00", "03:30", -2.5),
    ]
    assert [h.to_json()["from"] for h in overlap([night, KOLKATA], WINTER).handoffs] == ["indco", "nightco"]
