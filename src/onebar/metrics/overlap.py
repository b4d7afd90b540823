"""Overlap: shared working time between organisations on a real calendar week, daylight saving included.

Each person's working hours are laid on the calendar in their IANA time zone (zoneinfo), turned
into UTC intervals, and merged per organisation: an organisation is "at work" when at least one of
its people is. A pair of organisations shares the intersection of their two unions; the whole team
shares the intersection of every organisation's union. A session is one contiguous stretch of
shared time; the daily window is the median session length.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

from onebar.metrics.jsonable import FLATTEN, Jsonable, spec
from onebar.metrics.model import median

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Interval = tuple[int, int]  # UTC seconds, half-open


@dataclass(frozen=True)
class Schedule:
    person: str
    org: str
    timezone: str = "UTC"
    start: time = time(9, 0)
    end: time = time(17, 0)  # at or before `start`: the shift ends the next day
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def shifts(s: Schedule, monday: date) -> list[Interval]:
    """The person's working intervals (UTC) in the week starting `monday`, local calendar."""
    zone = ZoneInfo(s.timezone)
    out = []
    for i, name in enumerate(WEEKDAYS):
        if name not in s.days:
            continue
        day = monday + timedelta(days=i)
        begin = datetime.combine(day, s.start, tzinfo=zone)
        end_day = day if s.end > s.start else day + timedelta(days=1)
        finish = datetime.combine(end_day, s.end, tzinfo=zone)
        out.append((int(begin.timestamp()), int(finish.timestamp())))
    return out


def union(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def intersect(x: list[Interval], y: list[Interval]) -> list[Interval]:
    out = []
    i = j = 0
    while i < len(x) and j < len(y):
        a, b = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if a < b:
            out.append((a, b))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


def hours(intervals: list[Interval]) -> float:
    return sum(b - a for a, b in intervals) / 3600


def org_time(schedules: list[Schedule], monday: date) -> dict[str, list[Interval]]:
    per: dict[str, list[Interval]] = {}
    seen: set[tuple[object, ...]] = set()
    for s in schedules:
        key = (s.org, s.timezone, s.start, s.end, s.days)
        if key in seen:  # people on the same hours add nothing to their organisation's union
            continue
        seen.add(key)
        per.setdefault(s.org, []).extend(shifts(s, monday))
    return {org: union(iv) for org, iv in sorted(per.items())}


@dataclass(frozen=True, slots=True)
class Shared(Jsonable):
    """Time two or more organisations are at work together in one week."""

    hours_per_week: float
    sessions: int  # contiguous stretches of shared time
    daily_window_hours: float  # the median session
    meets_minimum: bool


@dataclass(frozen=True, slots=True)
class PairOverlap(Jsonable):
    orgs: tuple[str, str]
    shared: Shared = field(metadata=FLATTEN)
    daily_window_range_hours: tuple[float, float]  # lowest and highest over the year (daylight saving)


@dataclass(frozen=True, slots=True)
class OrgHours(Jsonable):
    hours_per_week: float
    people: int


@dataclass(frozen=True, slots=True)
class Handoff(Jsonable):
    """Follow the sun: one organisation's end of day and the next one's start (UTC, HH:MM)."""

    from_: str = field(metadata=spec(name="from"))
    to: str
    at_utc: str
    next_start_utc: str
    gap_hours: float  # negative: the two overlap by that much, so the hand-off can be live


@dataclass(frozen=True, slots=True)
class Overlap(Jsonable):
    """Shared working time of each pair of organisations and of the whole team, on one calendar week."""

    week_of: date
    minimum_hours: float
    organisations: Mapping[str, OrgHours]
    pairs: tuple[PairOverlap, ...]
    team: Shared | None
    handoffs: tuple[Handoff, ...]
    reasons: Mapping[str, str]


def _shared(intervals: list[Interval], minimum: float) -> Shared:
    sessions = [round((b - a) / 3600, 2) for a, b in intervals]
    window = median(sessions)
    return Shared(
        hours_per_week=round(hours(intervals), 2),
        sessions=len(sessions),
        daily_window_hours=round(window, 2) if window is not None else 0.0,
        meets_minimum=(window or 0.0) >= minimum,
    )


def overlap(schedules: list[Schedule], reference: date, minimum: float = 4.0) -> Overlap:
    """Pairs of organisations and the whole team on the week of `reference`, with the DST range."""
    monday = monday_of(reference)
    # One week of each daylight-saving regime of the reference's year shows how the windows move;
    # the range is the year's, so it is the same whichever day of the year is asked.
    seasons = regime_weeks(schedules, reference.year)
    orgs = org_time(schedules, monday)
    season_orgs = [org_time(schedules, m) for m in seasons]
    pairs = []
    for a, b in combinations(sorted(orgs), 2):
        shared = _shared(intersect(orgs[a], orgs[b]), minimum)
        over_year = [_shared(intersect(o[a], o[b]), minimum).daily_window_hours for o in season_orgs]
        span = (min(over_year), max(over_year)) if over_year else (shared.daily_window_hours,) * 2
        pairs.append(PairOverlap((a, b), shared, span))
    team_iv: list[Interval] | None = None
    for iv in orgs.values():
        team_iv = iv if team_iv is None else intersect(team_iv, iv)
    team = _shared(team_iv or [], minimum) if len(orgs) > 1 else None
    return Overlap(
        week_of=monday,
        minimum_hours=minimum,
        organisations={
            org: OrgHours(round(hours(iv), 2), sum(1 for s in schedules if s.org == org)) for org, iv in orgs.items()
        },
        pairs=tuple(pairs),
        team=team,
        handoffs=tuple(handoffs(schedules, monday + timedelta(days=2))),
        reasons={} if len(orgs) > 1 else {"pairs": "fewer than two organisations with people"},
    )


def regime_weeks(schedules: list[Schedule], year: int) -> list[date]:
    """The first Monday of each distinct set of UTC offsets (day by day) that `year`'s weeks see."""
    zones = [ZoneInfo(z) for z in sorted({s.timezone for s in schedules})]
    first: dict[tuple[object, ...], date] = {}
    monday = monday_of(date(year, 1, 1))
    while monday.year <= year:
        noons = [datetime.combine(monday + timedelta(days=i), time(12)) for i in range(7)]
        key = tuple(z.utcoffset(n) for z in zones for n in noons)
        first.setdefault(key, monday)
        monday += timedelta(days=7)
    return sorted(first.values())


def handoffs(schedules: list[Schedule], day: date) -> list[Handoff]:
    """Follow-the-sun on a typical day: organisations in order of their start, and each hand-off.

    An organisation's day runs from its earliest person's start to its latest person's end on that
    (local) weekday. `gap_hours` is the time from one organisation's end of day to the next one's
    start; a negative gap is an overlap (the time both are at work), in which the hand-off can
    happen live.
    """
    spans: dict[str, tuple[int, int]] = {}
    for s in schedules:
        if WEEKDAYS[day.weekday()] not in s.days:
            continue
        (a, b), *_ = [iv for iv in shifts(s, monday_of(day)) if _on(iv, day, s.timezone)] or [(0, 0)]
        if a == b:
            continue
        lo, hi = spans.get(s.org, (a, b))
        spans[s.org] = (min(lo, a), max(hi, b))
    # People spread over many zones can keep a group at work longer than a day: it is then at work
    # around the clock, for 24 h from its first start.
    spans = {org: (lo, min(hi, lo + 86400)) for org, (lo, hi) in spans.items()}
    # Organisations on the same shift hand off together: one entry per distinct shift.
    same: dict[tuple[int, int], list[str]] = {}
    for org, span in spans.items():
        same.setdefault(span, []).append(org)
    order = sorted(same)
    if len(order) < 2:
        return []
    out = []
    for i, (start, end) in enumerate(order):
        # The next shift to start; after the last one, the first one again.
        nxt = order[(i + 1) % len(order)]
        # Its shift that is still on, or next to come, when this one ends: today's or tomorrow's.
        a, b = next((a, b) for a, b in ((nxt[0] + k * 86400, nxt[1] + k * 86400) for k in (0, 1)) if b > end)
        # Already at work: both work from the later start to this end (never longer than the shorter
        # day, even when one group spans most of the clock); otherwise the wait until it starts.
        gap = a - end if a >= end else -(end - max(start, a))
        next_start = a
        out.append(
            Handoff(
                from_=", ".join(sorted(same[order[i]])),
                to=", ".join(sorted(same[nxt])),
                at_utc=_hhmm(end),
                next_start_utc=_hhmm(next_start),
                gap_hours=round(gap / 3600, 2),
            )
        )
    return out


def _on(iv: Interval, day: date, tz: str) -> bool:
    return datetime.fromtimestamp(iv[0], ZoneInfo(tz)).date() == day


def _hhmm(ts: int) -> str:
    minutes = (ts % 86400) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
