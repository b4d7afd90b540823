"""Overlap on real calendar weeks, with daylight saving from zoneinfo."""

from __future__ import annotations

from datetime import date, time

from onebar.metrics.overlap import Schedule, handoffs, overlap

BERLIN = Schedule("hans", "acme", "Europe/Berlin")
NEW_YORK = Schedule("nina", "nyco", "America/New_York")
MANILA = Schedule("mara", "pacific", "Asia/Manila", time(9), time(18))


def _pair(ref: date) -> dict:
    return overlap([BERLIN, NEW_YORK], ref).to_json()["pairs"][0]


def test_winter_and_summer_two_hours_a_day() -> None:
    # Winter: Berlin 08-16 UTC, New York 14-22 UTC. Summer: 07-15 and 13-21. Two hours either way.
    for ref in (date(2024, 1, 10), date(2024, 7, 10)):
        p = _pair(ref)
        assert p["hours_per_week"] == 10.0
        assert p["daily_window_hours"] == 2.0
        assert p["meets_minimum"] is False


def test_dst_gap_weeks_in_march_give_three_hours() -> None:
    # 2024-03-18: New York already on EDT (13-21 UTC), Berlin still on CET (08-16 UTC).
    p = _pair(date(2024, 3, 20))
    assert p["hours_per_week"] == 15.0
    assert p["daily_window_hours"] == 3.0
    assert p["daily_window_range_hours"] == [2.0, 3.0]


def test_team_window_is_the_intersection_of_all_orgs() -> None:
    out = overlap([BERLIN, NEW_YORK, MANILA], date(2024, 1, 10))
    assert out.team is not None
    assert out.team.hours_per_week == 0.0  # Manila (01-10 UTC) never meets New York
    pairs = {p.orgs: p for p in out.pairs}
    assert pairs[("acme", "pacific")].shared.daily_window_hours == 2.0  # 08-10 UTC


def test_an_org_is_at_work_when_any_member_is() -> None:
    late = Schedule("lena", "acme", "Europe/Berlin", time(13), time(21))  # 12-20 UTC in winter
    p = overlap([BERLIN, late, NEW_YORK], date(2024, 1, 10), minimum=4).pairs[0].shared
    assert p.daily_window_hours == 6.0
    assert p.meets_minimum is True


def test_follow_the_sun_handoffs() -> None:
    out = handoffs([BERLIN, NEW_YORK, MANILA], date(2024, 1, 10))
    assert [(h.from_, h.to) for h in out] == [("pacific", "acme"), ("acme", "nyco"), ("nyco", "pacific")]
    assert out[0].gap_hours == -2.0  # Manila ends 10:00 UTC, Berlin started 08:00: two hours live
    assert out[2].to_json() == {
        "from": "nyco",
        "to": "pacific",
        "at_utc": "22:00",
        "next_start_utc": "01:00",
        "gap_hours": 3.0,
    }


def test_a_handoff_overlap_is_never_longer_than_the_shorter_day() -> None:
    # "everyone" spans 00-23 UTC (people in many zones); Berlin (08-16 UTC) starts inside it. At
    # Berlin's end everyone is at work: both were for 8 h, Berlin's whole day (not 15 h from Berlin's
    # start to everyone's end). At everyone's end Berlin has left: it starts again 9 h later.
    early = Schedule("ada", "everyone", "UTC", time(0), time(8))
    late = Schedule("bob", "everyone", "UTC", time(15), time(23))
    out = handoffs([early, late, BERLIN], date(2024, 1, 10))
    assert [(h.from_, h.to, h.gap_hours) for h in out] == [("everyone", "acme", 9.0), ("acme", "everyone", -8.0)]


def test_night_shift_crossing_midnight() -> None:
    night = Schedule("ned", "nightco", "UTC", time(22), time(6))
    p = overlap([night, Schedule("ed", "earlyco", "UTC", time(5), time(13))], date(2024, 1, 10)).pairs[0].shared
    # Monday 05-06 has no Sunday night shift before it; Saturday has no early shift: four sessions.
    assert p.sessions == 4
    assert p.daily_window_hours == 1.0


def test_the_over_the_year_range_does_not_depend_on_the_day_asked() -> None:
    berlin = Schedule("hans", "acme", "Europe/Berlin", time(9), time(17, 30))
    ranges = {
        overlap([berlin, NEW_YORK], day).pairs[0].daily_window_range_hours
        for day in (date(2026, 1, 15), date(2026, 3, 18), date(2026, 7, 15), date(2026, 10, 28), date(2026, 12, 31))
    }
    assert ranges == {(2.5, 3.5)}  # the weeks when only one side has switched give 3.5 h
    # The daily figure itself still follows the day asked.
    assert overlap([berlin, NEW_YORK], date(2026, 3, 18)).pairs[0].shared.daily_window_hours == 3.5
    assert overlap([berlin, NEW_YORK], date(2026, 1, 15)).pairs[0].shared.daily_window_hours == 2.5


def test_handoffs_are_said_in_words() -> None:
    from onebar.report.render.common import handoff

    live = handoffs([BERLIN, NEW_YORK, MANILA], date(2024, 1, 10))[0]
    assert handoff(live) == "pacific → acme at 10:00 UTC: they overlap 2.0 h, so the hand-off can be live"
    wait = handoffs([BERLIN, NEW_YORK, MANILA], date(2024, 1, 10))[2]
    assert handoff(wait, "->") == "nyco -> pacific at 22:00 UTC: pacific starts 3.0 h later, at 01:00 UTC"
    assert "gap" not in handoff(live) + handoff(wait)


def test_overlap_text_summarises_with_the_pairs_below_the_minimum_first() -> None:
    from onebar.report.render.text import overlap_text

    also_berlin = Schedule("bea", "berlinco", "Europe/Berlin")
    ov = overlap([BERLIN, NEW_YORK, MANILA, also_berlin], date(2024, 1, 10))
    short = overlap_text(ov).splitlines()
    assert short[0].endswith("4 organisations, 6 pairs, 5 below the minimum")
    pairs = [line for line in short if line.startswith(("  LOW", "  ok "))]
    assert all(line.startswith("  LOW") for line in pairs) and len(pairs) == 5
    assert pairs[0].startswith("  LOW nyco <-> pacific: 0 min a day")  # the worst first
    assert "acme <-> berlinco" not in "\n".join(short) and "1 more pairs" in short[len(pairs) + 1]
    full = overlap_text(ov, every_pair=True)
    assert "ok  acme <-> berlinco: 8.0 h a day" in full and "more pairs" not in full


def test_counts_in_words_agree_with_their_number() -> None:
    from onebar.report.render.common import counted

    assert [counted(n, "commit") for n in (0, 1, 2)] == ["0 commits", "1 commit", "2 commits"]
