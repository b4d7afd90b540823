"""Drafting a person's time zone from the UTC offsets of their commits.

When the offsets switch with the seasons (+01:00 in winter, +02:00 in summer), the person lives in
a zone with daylight saving: each candidate zone below is scored by the share of commits whose
offset equals the zone's own offset on that commit's day, and the best one wins if it explains more
commits than the most frequent fixed offset does (at least MIN_GAIN and 2% more): a zone must match
both seasons, so travel or a move never fakes a switch. Without a seasonal switch the most frequent
offset is kept as a fixed zone (`Etc/GMT-2` for +02:00; a few half-hour offsets by their zone).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

DAY = 86400
# The most populous zone of each daylight-saving pattern; history (e.g. the US rules before 2007)
# is zoneinfo's, so old commits are judged by the rules of their day.
DST_ZONES = (
    "Europe/Berlin",  # CET/CEST
    "Europe/London",  # GMT/BST
    "Europe/Helsinki",  # EET/EEST
    "Asia/Jerusalem",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Halifax",
    "America/St_Johns",
    "America/Santiago",
    "America/Sao_Paulo",  # daylight saving until 2019
    "America/Asuncion",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Pacific/Auckland",
    "Europe/Moscow",  # daylight saving until 2011
    "Asia/Tehran",  # daylight saving until 2022
)
# Offsets that are not whole hours belong to few zones; name the most populous one.
HALF_HOUR_ZONES = {
    330: "Asia/Kolkata",
    345: "Asia/Kathmandu",
    270: "Asia/Kabul",
    210: "Asia/Tehran",
    390: "Asia/Yangon",
    570: "Australia/Darwin",
    630: "Australia/Adelaide",
    -210: "America/St_Johns",
    -150: "America/St_Johns",
    -570: "Pacific/Marquesas",
}
MIN_GAIN = 2  # commits a zone with daylight saving must explain beyond the best fixed offset
MIN_GAIN_SHARE = 0.02


def fixed_zone(offset_minutes: int) -> str:
    """An IANA zone with that fixed offset (Etc/GMT signs are inverted by POSIX convention)."""
    if offset_minutes == 0:
        return "UTC"
    if offset_minutes % 60:
        return HALF_HOUR_ZONES.get(offset_minutes, "UTC")
    hours = offset_minutes // 60
    if not -12 <= hours <= 14:
        return "UTC"
    return f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"


@cache
def _offset(zone: str, day: int) -> int:
    """The zone's UTC offset in minutes at noon UTC of day number `day` (days since 1970-01-01)."""
    off = datetime.fromtimestamp(day * DAY + DAY // 2, UTC).astimezone(ZoneInfo(zone)).utcoffset()
    return int(off.total_seconds() // 60) if off else 0


def draft_zone(samples: Counter[tuple[int, int]]) -> str:
    """The zone for commits given as (UTC offset in minutes, day number) -> count."""
    if not samples:
        return "UTC"
    by_offset: Counter[int] = Counter()
    for (off, _day), n in samples.items():
        by_offset[off] += n
    total = sum(by_offset.values())
    (top, top_n), *rest = by_offset.most_common()
    if not any(abs(off - top) == 60 and n >= MIN_GAIN for off, n in rest):
        return fixed_zone(top)
    best, best_hits = None, top_n + max(MIN_GAIN, MIN_GAIN_SHARE * total)
    for zone in DST_ZONES:
        hits = sum(n for (off, day), n in samples.items() if _offset(zone, day) == off)
        if hits >= best_hits:
            best, best_hits = zone, hits + 1e-9
    return best or fixed_zone(top)
