"""Opening hours as plain functions: when the team is open, in UTC instants.

A ``Schedule`` is opening ranges per weekday in one time zone, and holidays (local
dates closed all day). A range belongs to the day it starts on: "22:00-02:00" runs
into the next morning, "09:00-00:00" to the end of the day, "00:00-00:00" all day;
a holiday cancels the ranges that start on it. Local times are turned into instants
with zoneinfo (a time skipped by a DST change counts in the offset before it, a
repeated one at its first occurrence), then compared in UTC only.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

Range = tuple[dt.time, dt.time]
Interval = tuple[dt.datetime, dt.datetime]  # [opens, closes), aware, UTC

# How far ahead the next opening is looked for (a long holiday fits), and how many
# openings a client is told at most (two a day: about a week).
HORIZON_DAYS = 400
UPCOMING = 16

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class Schedule:
    time_zone: str = "UTC"
    weekly: Mapping[int, Sequence[Range]] = field(default_factory=dict)  # 0: Monday
    holidays: frozenset[dt.date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@functools.cache
def time_zones() -> frozenset[str]:
    """The IANA zones of this system (a walk of its database: read once)."""
    return frozenset(available_timezones())


def is_valid_time_zone(name: str) -> bool:
    if name not in time_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_ranges(text: str) -> list[Range]:
    """ "09:00-12:00, 13:00-18:00" as ranges ("" is closed). Raises ValueError with
    the part that is not a range."""
    ranges: list[Range] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", text))):
        match = _RANGE.match(part)
        if match is None:
            raise ValueError(part)
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(part)
        opens = dt.time(h1, m1)
        closes = dt.time(0, 0) if h2 == 24 else dt.time(h2, m2)
        if opens == closes and opens != dt.time(0, 0):
            raise ValueError(part)
        ranges.append((opens, closes))
    return sorted(ranges)


def format_ranges(ranges: Iterable[Range]) -> str:
    return ", ".join(f"{o:%H:%M}-{c:%H:%M}" for o, c in ranges)


def _ranges_from(schedule: Schedule, *, at: dt.datetime) -> Iterator[Interval]:
    """The ranges starting on the local dates from the day before ``at`` on, for
    HORIZON_DAYS, as UTC intervals in the order they open."""
    zone = schedule.zone
    first = at.astimezone(zone).date() - dt.timedelta(days=1)
    for offset in range(HORIZON_DAYS + 1):
        day = first + dt.timedelta(days=offset)
        if day in schedule.holidays:
            continue
        for opens, closes in schedule.weekly.get(day.weekday(), ()):
            end_day = day if closes > opens else day + dt.timedelta(days=1)
            start = dt.datetime.combine(day, opens, tzinfo=zone).astimezone(dt.UTC)
            end = dt.datetime.combine(end_day, closes, tzinfo=zone).astimezone(dt.UTC)
            if end > start:  # a range inside a skipped hour is no range
                yield start, end


def upcoming(
    schedule: Schedule, *, at: dt.datetime, limit: int = UPCOMING
) -> list[Interval]:
    """The open intervals not over at ``at`` (the first may contain it), touching
    ranges merged, at most ``limit``, within HORIZON_DAYS: [] when the team never
    opens again."""
    found: list[Interval] = []
    for start, end in _ranges_from(schedule, at=at):
        if end <= at:
            continue
        if found and start <= found[-1][1]:
            found[-1] = (found[-1][0], max(found[-1][1], end))
        elif len(found) == limit:
            break  # the last one found cannot grow any more
        else:
            found.append((start, end))
    return found


def is_open(schedule: Schedule, *, at: dt.datetime) -> bool:
    return any(start <= at < end for start, end in upcoming(schedule, at=at, limit=1))


def next_opening(schedule: Schedule, *, at: dt.datetime) -> dt.datetime | None:
    """When the team opens next after ``at`` (None when open now or never again)."""
    for start, _end in upcoming(schedule, at=at, limit=2):
        if start > at:
            return start
    return None
