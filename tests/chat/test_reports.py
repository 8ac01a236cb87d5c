"""The admin's reports on a known week: counts, medians and p90s, busiest hours."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.roles import OPERATORS_GROUP
from chat import reports, services
from chat.models import Message, Rating, Thread

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MONDAY = dt.date(2026, 11, 2)
URL = "/admin/chat/conversationreport/"


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(
        MONDAY + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=UTC
    )


def conversation(
    key: str,
    started: dt.datetime,
    *,
    assigned: Any = None,
    reply: tuple[Any, dt.datetime] | None = None,
    closed: dt.datetime | None = None,
) -> Thread:
    """A visitor's message at ``started``; an operator's reply; closed."""
    _visitor, thread = services.start_visitor(session_key=key)
    asked = services.post_message(
        thread_id=thread.pk, client_id=uuid.uuid4(), body="Merhaba"
    ).message
    Message.objects.filter(pk=asked.pk).update(created_at=started)
    if reply is not None:
        operator, when = reply
        answer = services.post_message(
            thread_id=thread.pk,
            client_id=uuid.uuid4(),
            body="Buyrun",
            author=Message.Author.OPERATOR,
            operator_id=operator.pk,
            author_name=operator.first_name,
        ).message
        Message.objects.filter(pk=answer.pk).update(created_at=when)
    if assigned is not None:
        services.assign_thread(thread_id=thread.pk, operator_id=assigned.pk)
    if closed is not None:
        services.close_thread(thread_id=thread.pk)
    Thread.objects.filter(pk=thread.pk).update(created_at=started, closed_at=closed)
    return thread


@pytest.fixture
def week(django_user_model: Any) -> tuple[Any, Any]:
    """Ayşe: three conversations (answered in 60 s and 180 s, closed after 1 h and
    30 min; one missed). Mehmet answered an unassigned one in 10 min. Nobody
    answered one on Sunday; one falls before the week."""
    ayse = django_user_model.objects.create_user(
        "ayse", is_staff=True, first_name="Ayşe"
    )
    mehmet = django_user_model.objects.create_user(
        "mehmet", is_staff=True, first_name="Mehmet"
    )
    conversation(
        "t1", at(0, 10), assigned=ayse, reply=(ayse, at(0, 10, 1)), closed=at(0, 11)
    )
    conversation(
        "t2",
        at(0, 10, 5),
        assigned=ayse,
        reply=(ayse, at(0, 10, 8)),
        closed=at(0, 10, 35),
    )
    conversation("t3", at(1, 12), reply=(mehmet, at(1, 12, 10)))
    conversation("t4", at(2, 9), assigned=ayse)
    conversation("t5", at(6, 15))
    conversation("t6", at(-1, 15), reply=(mehmet, at(-1, 15, 1)))
    return ayse, mehmet


def test_the_report_counts_and_times_each_operators_conversations(
    week: tuple[Any, Any],
) -> None:
    ayse, mehmet = week
    report = reports.build_report(start=MONDAY, end=at(6, 0).date(), tz=UTC)
    rows = {row.name or "nobody": row for row in report.rows}
    assert list(rows) == ["Ayşe", "Mehmet", "nobody"]
    a, m, nobody = rows["Ayşe"], rows["Mehmet"], rows["nobody"]
    assert (a.started, a.answered, a.missed) == (3, 2, 1)
    assert (a.first_response.median, a.first_response.p90) == (120, 168)
    assert (a.resolution.median, a.resolution.p90) == (2700, 3420)
    assert (m.started, m.answered, m.missed, m.first_response.median) == (1, 1, 0, 600)
    assert m.resolution.count == 0 and m.resolution.median is None
    assert (nobody.started, nobody.missed) == (1, 1)
    total = report.total
    assert (total.started, total.answered, total.missed) == (5, 3, 2)
    assert (total.first_response.median, total.first_response.p90) == (180, 516)
    assert report.hours[0][10] == 2 and report.hours[1][12] == 1
    assert report.hours[6][15] == 1 and sum(map(sum, report.hours)) == 5
    assert [count for _day, count in report.days] == [2, 1, 1, 0, 0, 0, 1]
    assert a.rating is None and report.has_ratings  # ratings on, none given yet


def test_ratings_are_averaged_per_operator(week: tuple[Any, Any]) -> None:
    ayse, _mehmet = week
    first, second = Thread.objects.filter(assigned_to=ayse).order_by("created_at")[:2]
    Rating.objects.create(thread=first, score=5)
    Rating.objects.create(thread=second, score=2, comment="slow")
    report = reports.build_report(start=MONDAY, end=at(6, 0).date(), tz=UTC)
    row = next(row for row in report.rows if row.name == "Ayşe")
    assert (row.rating, row.rating_count) == (3.5, 2)
    assert report.total.rating == 3.5


def test_days_and_hours_follow_the_time_zone(week: tuple[Any, Any]) -> None:
    istanbul = dt.timezone(dt.timedelta(hours=3))
    report = reports.build_report(start=MONDAY, end=at(6, 0).date(), tz=istanbul)
    assert report.hours[0][13] == 2 and report.hours[6][18] == 1


def test_a_range_past_366_days_is_refused() -> None:
    with pytest.raises(ValueError):
        reports.build_report(start=MONDAY, end=MONDAY + dt.timedelta(days=366), tz=UTC)


@pytest.fixture
def owner_client(django_user_model: Any) -> Client:
    owner = django_user_model.objects.create_superuser("owner", password="x")
    client = Client()
    client.force_login(owner)
    return client


def test_the_report_page_shows_the_numbers_and_downloads_them(
    week: tuple[Any, Any], owner_client: Client
) -> None:
    query = {"start": "2026-11-02", "end": "2026-11-08"}
    page = owner_client.get(URL, query)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ayşe" in html and "2 min 0 s" in html and "2 min 48 s" in html
    assert '<td class="heat-4">2</td>' in html
    response = owner_client.get(URL, {**query, "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Operator", "Started", "Answered", "Missed"]
    assert rows[1][:6] == ["Ayşe", "3", "2", "1", "120", "168"]
    assert rows[-1][:4] == ["All", "5", "3", "2"]
    turkish = owner_client.get(URL, query, headers={"accept-language": "tr"})
    assert "Temsilci başına" in turkish.content.decode()
    assert "2 dk 0 sn" in turkish.content.decode()


def test_the_report_page_defaults_to_the_last_seven_days_and_checks_the_range(
    owner_client: Client,
) -> None:
    page = owner_client.get(URL)
    start, end = reports.default_range()
    assert f'value="{start.isoformat()}"' in page.content.decode()
    assert f'value="{end.isoformat()}"' in page.content.decode()
    refused = owner_client.get(URL, {"start": "2026-11-08", "end": "2026-11-02"})
    assert "The end comes before the start." in refused.content.decode()
    assert "Per operator" not in refused.content.decode()


def test_operators_do_not_see_reports_unless_granted(django_user_model: Any) -> None:
    operator = django_user_model.objects.create_user("op", is_staff=True)
    operator.groups.add(Group.objects.get(name=OPERATORS_GROUP))
    client = Client()
    client.force_login(operator)
    assert client.get(URL).status_code == 403
    assert URL not in client.get("/admin/").content.decode()
