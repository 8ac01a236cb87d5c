"""The rating at the end: a visitor rates their closed conversation once (changeable
for a few minutes); operators see it live and with the thread; it is queued for the
operators' Telegram topic."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db.models import F

from chat import services
from chat.models import OutboxEntry, Rating, Thread

pytestmark = pytest.mark.django_db(transaction=True)


async def closed_conversation(connect_visitor: Any) -> tuple[Any, int]:
    visitor = await connect_visitor()
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="hi")
    await visitor.receive_type("ack")
    thread = visitor.hello["thread"]["id"]
    await database_sync_to_async(services.close_thread)(thread_id=thread)
    return visitor, thread


async def test_a_visitor_rates_a_closed_conversation_and_operators_see_it(
    connect_visitor: Any, connect_operator: Any, settings: Any
) -> None:
    settings.SOHBET_OUTBOX_CHANNELS = ["telegram"]
    operator = await connect_operator()
    visitor, thread = await closed_conversation(connect_visitor)
    await visitor.send(type="thread.rate", score=4, comment="Quick, thanks")
    rating = (await visitor.receive_type("rating"))["rating"]
    assert (rating["score"], rating["comment"]) == (4, "Quick, thanks")
    extra = await operator.receive_type("thread.extra")
    assert extra["thread"] == thread
    assert extra["rating"]["score"] == 4 and extra["blocked"] is None
    # Changed within the minutes allowed: one rating, queued again for Telegram.
    await visitor.send(type="thread.rate", score=5, comment="Great")
    assert (await visitor.receive_type("rating"))["rating"]["score"] == 5
    assert (await operator.receive_type("thread.extra"))["rating"]["score"] == 5
    rows = await database_sync_to_async(
        lambda: list(Rating.objects.values_list("thread_id", "score", "comment"))
    )()
    assert rows == [(thread, 5, "Great")]
    kinds = await database_sync_to_async(
        lambda: list(OutboxEntry.objects.values_list("kind", flat=True))
    )()
    assert kinds.count("rating") == 2
    # A new socket is told it was rated (the page does not ask again).
    again = await connect_visitor(visitor.cookie)
    assert again.hello["rating"]["current"]["score"] == 5
    # An opened thread carries it for operators.
    await operator.send(type="sync", thread=thread, after=0)
    assert (await operator.receive_type("thread.extra"))["rating"]["score"] == 5


def eleven_minutes_pass(thread: int) -> None:
    earlier = dt.timedelta(minutes=11)
    Thread.objects.filter(pk=thread).update(closed_at=F("closed_at") - earlier)
    Rating.objects.update(created_at=F("created_at") - earlier)


async def test_a_rating_cannot_be_changed_after_its_minutes(
    connect_visitor: Any,
) -> None:
    visitor, thread = await closed_conversation(connect_visitor)
    await visitor.send(type="thread.rate", score=2)
    await visitor.receive_type("rating")
    await database_sync_to_async(eleven_minutes_pass)(thread)
    await visitor.send(type="thread.rate", score=5)
    error = await visitor.receive_type("error")
    assert (error["code"], error["frame"]) == ("forbidden", "thread.rate")
    assert await database_sync_to_async(lambda: Rating.objects.get().score)() == 2


async def test_an_open_conversation_cannot_be_rated(connect_visitor: Any) -> None:
    visitor = await connect_visitor()
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="hi")
    await visitor.receive_type("ack")
    await visitor.send(type="thread.rate", score=5)
    error = await visitor.receive_type("error")
    assert (error["code"], error["frame"]) == ("forbidden", "thread.rate")
    await visitor.send(type="thread.rate", score=9)
    assert (await visitor.receive_type("error"))["code"] == "invalid"


async def test_ratings_switched_off_are_neither_asked_nor_taken(
    connect_visitor: Any, settings: Any
) -> None:
    settings.SOHBET_RATING = False
    visitor, _thread = await closed_conversation(connect_visitor)
    again = await connect_visitor(visitor.cookie)
    assert again.hello["rating"] == {"enabled": False, "current": None}
    await again.send(type="thread.rate", score=5)
    assert (await again.receive_type("error"))["code"] == "forbidden"
    assert await database_sync_to_async(Rating.objects.count)() == 0
