"""The admin's reports: for the conversations started in a date range, per operator,
how many were answered or missed, first-response and resolution times (median, p90),
ratings when the site has them, and the busiest hours.

The database does the per-message work (one row per conversation, its first visitor
message and first reply found by index; the hours and days counted by it); the
percentiles are taken in Python over those per-conversation rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate
from django.utils import timezone

from chat.models import Message, Rating, Thread

MAX_RANGE_DAYS = 366
DEFAULT_DAYS = 7
NO_OPERATOR = 0  # the row of conversations nobody was assigned or answered


@dataclass(frozen=True, slots=True)
class Durations:
    count: int
    median: float | None  # seconds
    p90: float | None


@dataclass(slots=True)
class OperatorRow:
    operator_id: int  # NO_OPERATOR for none
    name: str
    started: int = 0
    answered: int = 0
    missed: int = 0
    first_response: Durations = Durations(0, None, None)
    resolution: Durations = Durations(0, None, None)
    rating: float | None = None
    rating_count: int = 0


@dataclass(frozen=True, slots=True)
class Report:
    start: dt.date
    end: dt.date  # inclusive
    time_zone: str
    rows: list[OperatorRow]  # most conversations first, nobody's last
    total: OperatorRow
    hours: list[list[int]]  # [weekday 0 = Monday][hour] conversations started
    days: list[tuple[dt.date, int]]  # conversations started each day
    has_ratings: bool
    hours_max: int = field(default=0)


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's
    percentile_cont); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def durations(values: list[float]) -> Durations:
    return Durations(len(values), percentile(values, 0.5), percentile(values, 0.9))


def date_bounds(
    start: dt.date, end: dt.date, tz: dt.tzinfo
) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the day after end 00:00) in ``tz``."""
    first = dt.datetime.combine(start, dt.time.min).replace(tzinfo=tz)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min)
    return first, after.replace(tzinfo=tz)


def _thread_rows(start: dt.datetime, end: dt.datetime) -> list[tuple[Any, ...]]:
    messages = Message.objects.filter(thread=OuterRef("pk")).order_by("seq")
    first_visitor = messages.filter(author=Message.Author.VISITOR)
    replies = messages.filter(
        author=Message.Author.OPERATOR, created_at__gte=OuterRef("first_visitor_at")
    )
    return list(
        Thread.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(first_visitor_at=Subquery(first_visitor.values("created_at")[:1]))
        .annotate(
            first_reply_at=Subquery(replies.values("created_at")[:1]),
            first_replier=Subquery(replies.values("operator_id")[:1]),
            replied=Exists(messages.filter(author=Message.Author.OPERATOR)),
        )
        .values_list(
            "pk",
            "assigned_to_id",
            "first_replier",
            "created_at",
            "closed_at",
            "first_visitor_at",
            "first_reply_at",
            "replied",
        )
    )


def _ratings(start: dt.datetime, end: dt.datetime) -> dict[int, list[float]]:
    """Each rated thread's scores (a thread closed twice may be rated twice)."""
    scores: dict[int, list[float]] = defaultdict(list)
    rows = Rating.objects.filter(
        thread__created_at__gte=start, thread__created_at__lt=end
    ).values_list("thread_id", "score")
    for thread_id, score in rows:
        scores[thread_id].append(float(score))
    return scores


def build_report(*, start: dt.date, end: dt.date, tz: dt.tzinfo) -> Report:
    """The report of the conversations started from ``start`` to ``end``
    (inclusive, days in ``tz``). Raises ValueError for a range that is empty or
    longer than MAX_RANGE_DAYS."""
    if end < start or (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValueError("range")
    first, after = date_bounds(start, end, tz)
    rows = _thread_rows(first, after)
    ratings = _ratings(first, after)
    names = _operator_names({row[1] or row[2] for row in rows} - {None})
    per: dict[int, OperatorRow] = {}
    waits: dict[int, list[float]] = defaultdict(list)
    resolved: dict[int, list[float]] = defaultdict(list)
    scores: dict[int, list[float]] = defaultdict(list)
    for pk, assigned, replier, created, closed, asked, reply, replied in rows:
        key = assigned or replier or NO_OPERATOR
        row = per.setdefault(key, OperatorRow(key, names.get(key, "")))
        row.started += 1
        row.answered += bool(replied)
        row.missed += not replied
        if asked is not None and reply is not None:
            waits[key].append((reply - asked).total_seconds())
        if closed is not None:
            resolved[key].append(max(0.0, (closed - created).total_seconds()))
        scores[key].extend(ratings.get(pk, []))
    total = OperatorRow(-1, "")
    for key, row in per.items():
        row.first_response = durations(waits[key])
        row.resolution = durations(resolved[key])
        _rate(row, scores[key])
        total.started += row.started
        total.answered += row.answered
        total.missed += row.missed
    total.first_response = durations([v for values in waits.values() for v in values])
    total.resolution = durations([v for values in resolved.values() for v in values])
    _rate(total, [v for values in scores.values() for v in values])
    hours = _hours(first, after, tz)
    return Report(
        start=start,
        end=end,
        time_zone=str(tz),
        rows=sorted(per.values(), key=_row_order),
        total=total,
        hours=hours,
        days=_days(first, after, tz, start, end),
        has_ratings=settings.SOHBET_RATING or bool(ratings),
        hours_max=max(max(day) for day in hours),
    )


def _row_order(row: OperatorRow) -> tuple[bool, int, str]:
    """Most conversations first; the row of nobody's last."""
    return row.operator_id == NO_OPERATOR, -row.started, row.name


def _rate(row: OperatorRow, scores: list[float]) -> None:
    row.rating_count = len(scores)
    row.rating = sum(scores) / len(scores) if scores else None


def _operator_names(ids: set[int]) -> dict[int, str]:
    from accounts.models import User

    return {user.pk: user.display_name for user in User.objects.filter(pk__in=ids)}


def _hours(start: dt.datetime, end: dt.datetime, tz: dt.tzinfo) -> list[list[int]]:
    grid = [[0] * 24 for _day in range(7)]
    counted = (
        Thread.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(
            weekday=ExtractIsoWeekDay("created_at", tzinfo=tz),
            hour=ExtractHour("created_at", tzinfo=tz),
        )
        .values("weekday", "hour")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for row in counted:
        grid[row["weekday"] - 1][row["hour"]] = row["count"]
    return grid


def _days(
    start: dt.datetime,
    end: dt.datetime,
    tz: dt.tzinfo,
    first_day: dt.date,
    last_day: dt.date,
) -> list[tuple[dt.date, int]]:
    counted = dict(
        Thread.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("day", "count")
    )
    span = (last_day - first_day).days + 1
    days = [first_day + dt.timedelta(days=n) for n in range(span)]
    return [(day, counted.get(day, 0)) for day in days]


def default_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last DEFAULT_DAYS days, today included."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=DEFAULT_DAYS - 1), today
