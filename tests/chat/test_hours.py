"""Opening hours (chat.hours) at fixed instants: across midnight, DST changes,
holidays and time zones other than the server's."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from chat import hours

T = dt.time
UTC = dt.UTC
ISTANBUL = ZoneInfo("Europe/Istanbul")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = {day: [(T(9), T(17))] for day in range(5)}  # Monday to Friday


def at(zone: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)  # type: ignore[misc]


def test_open_within_a_range_and_closed_at_its_end() -> None:
    schedule = hours.Schedule("Europe/Istanbul", WEEKDAYS)
    # Monday 7 December 2026.
    assert hours.is_open(schedule, at=at(ISTANBUL, 2026, 12, 7, 9, 0))
    assert hours.is_open(schedule, at=at(ISTANBUL, 2026, 12, 7, 16, 59))
    assert not hours.is_open(schedule, at=at(ISTANBUL, 2026, 12, 7, 17, 0))
    assert not hours.is_open(schedule, at=at(ISTANBUL, 2026, 12, 7, 8, 59))


def test_the_hours_are_those_of_the_schedules_time_zone_not_the_servers() -> None:
    schedule = hours.Schedule("Europe/Istanbul", WEEKDAYS)  # UTC+3
    assert hours.is_open(schedule, at=at(UTC, 2026, 12, 7, 6, 0))  # 09:00 there
    assert not hours.is_open(schedule, at=at(UTC, 2026, 12, 7, 14, 0))  # 17:00


def test_friday_evening_the_team_is_back_on_monday_morning() -> None:
    schedule = hours.Schedule("Europe/Istanbul", WEEKDAYS)
    friday_evening = at(ISTANBUL, 2026, 12, 11, 18, 0)
    assert hours.next_opening(schedule, at=friday_evening) == at(
        ISTANBUL, 2026, 12, 14, 9, 0
    )


def test_a_range_across_midnight_belongs_to_the_day_it_starts() -> None:
    schedule = hours.Schedule("UTC", {4: [(T(22), T(2))]})  # Friday 22:00-02:00
    assert hours.is_open(schedule, at=at(UTC, 2026, 12, 11, 23, 30))
    assert hours.is_open(schedule, at=at(UTC, 2026, 12, 12, 1, 59))  # Saturday
    assert not hours.is_open(schedule, at=at(UTC, 2026, 12, 12, 2, 0))
    assert not hours.is_open(schedule, at=at(UTC, 2026, 12, 12, 23, 30))


def test_until_midnight_and_from_midnight_make_one_opening() -> None:
    schedule = hours.Schedule("UTC", {0: [(T(18), T(0))], 1: [(T(0), T(6))]})
    assert hours.upcoming(schedule, at=at(UTC, 2026, 12, 7, 12, 0), limit=1) == [
        (at(UTC, 2026, 12, 7, 18, 0), at(UTC, 2026, 12, 8, 6, 0))
    ]
    assert hours.is_open(schedule, at=at(UTC, 2026, 12, 8, 0, 0))


def test_all_day_is_midnight_to_midnight() -> None:
    schedule = hours.Schedule("UTC", {0: [(T(0), T(0))]})
    assert hours.is_open(schedule, at=at(UTC, 2026, 12, 7, 0, 0))
    assert hours.is_open(schedule, at=at(UTC, 2026, 12, 7, 23, 59))
    assert not hours.is_open(schedule, at=at(UTC, 2026, 12, 8, 0, 0))


def test_several_ranges_a_day_close_over_lunch() -> None:
    schedule = hours.Schedule("UTC", {0: [(T(9), T(12)), (T(13), T(18))]})
    assert not hours.is_open(schedule, at=at(UTC, 2026, 12, 7, 12, 30))
    assert hours.next_opening(schedule, at=at(UTC, 2026, 12, 7, 12, 30)) == at(
        UTC, 2026, 12, 7, 13, 0
    )


def test_a_holiday_is_closed_all_day_and_the_next_day_opens() -> None:
    schedule = hours.Schedule(
        "Europe/Istanbul", WEEKDAYS, holidays=frozenset({dt.date(2026, 12, 7)})
    )
    assert not hours.is_open(schedule, at=at(ISTANBUL, 2026, 12, 7, 10, 0))
    assert hours.next_opening(schedule, at=at(ISTANBUL, 2026, 12, 7, 10, 0)) == at(
        ISTANBUL, 2026, 12, 8, 9, 0
    )


def test_a_holiday_is_a_date_of_the_schedules_time_zone() -> None:
    # 1 January in Istanbul begins at 21:00 UTC on 31 December.
    schedule = hours.Schedule(
        "Europe/Istanbul",
        {day: [(T(0), T(0))] for day in range(7)},
        holidays=frozenset({dt.date(2027, 1, 1)}),
    )
    assert hours.is_open(schedule, at=at(UTC, 2026, 12, 31, 20, 59))
    assert not hours.is_open(schedule, at=at(UTC, 2026, 12, 31, 21, 0))


def test_spring_forward_the_local_opening_hour_moves_in_utc() -> None:
    schedule = hours.Schedule(
        "Europe/Berlin", {day: [(T(9), T(17))] for day in range(7)}
    )
    # Sunday 28 March 2027: clocks go from 02:00 to 03:00 (UTC+1 to UTC+2).
    assert hours.next_opening(schedule, at=at(UTC, 2027, 3, 27, 20, 0)) == at(
        UTC, 2027, 3, 28, 7, 0
    )
    assert hours.next_opening(schedule, at=at(UTC, 2027, 3, 26, 20, 0)) == at(
        UTC, 2027, 3, 27, 8, 0
    )


def test_a_range_over_the_skipped_hour_is_an_hour_shorter() -> None:
    schedule = hours.Schedule("Europe/Berlin", {6: [(T(1), T(4))]})  # Sundays
    [(opens, closes)] = hours.upcoming(schedule, at=at(UTC, 2027, 3, 27, 0), limit=1)
    assert closes - opens == dt.timedelta(hours=2)
    assert opens.astimezone(BERLIN).hour == 1 and closes.astimezone(BERLIN).hour == 4


def test_fall_back_a_night_range_is_an_hour_longer() -> None:
    schedule = hours.Schedule("America/New_York", {5: [(T(22), T(6))]})  # Saturdays
    # Sunday 7 November 2027, 02:00 EDT becomes 01:00 EST.
    [(opens, closes)] = hours.upcoming(schedule, at=at(UTC, 2027, 11, 6, 0), limit=1)
    assert closes - opens == dt.timedelta(hours=9)
    assert opens == at(NEW_YORK, 2027, 11, 6, 22, 0)
    assert hours.is_open(schedule, at=at(UTC, 2027, 11, 7, 10, 59))  # 05:59 EST
    assert not hours.is_open(schedule, at=at(UTC, 2027, 11, 7, 11, 0))


def test_never_open_has_no_next_opening() -> None:
    schedule = hours.Schedule("UTC", {})
    assert not hours.is_open(schedule, at=at(UTC, 2026, 12, 7, 12, 0))
    assert hours.next_opening(schedule, at=at(UTC, 2026, 12, 7, 12, 0)) is None
    assert hours.upcoming(schedule, at=at(UTC, 2026, 12, 7, 12, 0)) == []


def test_a_long_holiday_is_looked_past() -> None:
    first = dt.date(2026, 12, 1)
    closed = frozenset(first + dt.timedelta(days=n) for n in range(60))
    schedule = hours.Schedule("UTC", WEEKDAYS, holidays=closed)
    opening = hours.next_opening(schedule, at=at(UTC, 2026, 12, 1, 0, 0))
    # Closed 1 December to Friday 29 January, then a weekend.
    assert opening == at(UTC, 2027, 2, 1, 9, 0)


def test_upcoming_is_bounded_and_in_order() -> None:
    schedule = hours.Schedule(
        "UTC", {d: [(T(9), T(10)), (T(11), T(12))] for d in range(7)}
    )
    found = hours.upcoming(schedule, at=at(UTC, 2026, 12, 7, 9, 30))
    assert len(found) == hours.UPCOMING
    assert found[0] == (at(UTC, 2026, 12, 7, 9, 0), at(UTC, 2026, 12, 7, 10, 0))
    assert all(a[1] < b[0] for a, b in zip(found, found[1:], strict=False))


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("", []),
        ("09:00-17:00", [(T(9), T(17))]),
        ("13:00 – 18:00, 9:00-12:30", [(T(9), T(12, 30)), (T(13), T(18))]),
        ("18:00-24:00", [(T(18), T(0))]),
        ("00:00-00:00", [(T(0), T(0))]),
    ],
)
def test_ranges_are_read_as_typed(text: str, ranges: list[hours.Range]) -> None:
    assert hours.parse_ranges(text) == ranges


@pytest.mark.parametrize("text", ["9-17", "25:00-26:00", "09:00-09:00", "09:60-10:00"])
def test_a_range_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        hours.parse_ranges(text)
