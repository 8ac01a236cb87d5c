"""The push outbox: what the message path queues, who the worker pushes to (through
a push service on 127.0.0.1 that checks VAPID and decrypts), and its failures."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat import services as chat_services
from chat.models import OutboxEntry, PushSubscription, Thread
from chat.push import services, worker
from chat.push.rules import PUSH_CHANNEL
from tests.push.conftest import later

pytestmark = pytest.mark.django_db(transaction=True)


def new_id() -> str:
    return str(uuid.uuid4())


send_due = database_sync_to_async(worker.send_due)


@database_sync_to_async
def push_rows() -> list[tuple[str, str, int | None]]:
    return list(
        OutboxEntry.objects.filter(channel=PUSH_CHANNEL)
        .order_by("pk")
        .values_list("kind", "status", "message_id")
    )


async def post(socket: Any, body: str) -> int:
    await socket.send(type="message.send", client_id=new_id(), body=body)
    return (await socket.receive_type("ack"))["id"]


async def test_a_visitor_message_reaches_each_device_of_the_operators(
    connect_visitor, make_operator, subscribe, push_service
):
    ayse, mehmet = await make_operator("ayse"), await make_operator("mehmet")
    phone = await database_sync_to_async(subscribe)(operator_id=ayse.pk)
    laptop = await database_sync_to_async(subscribe)(operator_id=ayse.pk)
    other = await database_sync_to_async(subscribe)(operator_id=mehmet.pk)
    visitor = await connect_visitor()
    thread = visitor.hello["thread"]["id"]

    message = await post(visitor, "Hello, is anyone there?")
    assert await push_rows() == [("message", "pending", message)]
    assert await send_due(now=timezone.now()) == 0  # an open inbox has its seconds

    assert await send_due(now=later()) == 1
    assert push_service.refused == []
    for device in (phone, laptop, other):
        [got] = push_service.for_(device)
        assert got.payload["body"] == "Hello, is anyone there?"
        assert got.payload["title"].startswith("New conversation")
        assert got.payload["url"] == f"/admin/inbox/#thread-{thread}"
        assert got.headers["topic"] == f"thread-{thread}"  # collapsed per thread
        assert got.claims["sub"] == "mailto:team@example.com"
    assert await push_rows() == [("message", "done", message)]


async def test_each_device_of_an_operator_is_told_in_its_own_language(
    connect_visitor, make_operator, subscribe, push_service
):
    ayse = await make_operator("ayse")
    laptop = await database_sync_to_async(subscribe)(operator_id=ayse.pk)
    phone = await database_sync_to_async(subscribe)(operator_id=ayse.pk, language="tr")
    visitor = await connect_visitor()
    await post(visitor, "Merhaba")

    await send_due(now=later())

    thread = visitor.hello["thread"]["id"]
    number = (await Thread.objects.aget(pk=thread)).visitor_id  # "Visitor #<id>"
    [english], [turkish] = push_service.for_(laptop), push_service.for_(phone)
    assert english.payload["title"] == f"New conversation: Visitor #{number}"
    assert turkish.payload["title"] == f"Yeni görüşme: Ziyaretçi #{number}"


async def test_a_burst_is_one_notification_and_a_read_message_none(
    connect_visitor, make_operator, subscribe, push_service
):
    ayse = await make_operator("ayse")
    device = await database_sync_to_async(subscribe)(operator_id=ayse.pk)
    visitor = await connect_visitor()
    thread = visitor.hello["thread"]["id"]
    for text in ("one", "two", "three"):
        await post(visitor, text)
    await send_due(now=later())
    [got] = push_service.for_(device)
    assert got.payload["body"] == "three (3 new messages)"

    # An operator's inbox shows the next one at once (its "read"): not pushed.
    seen = await post(visitor, "four")
    await database_sync_to_async(chat_services.mark_read)(
        thread_id=thread, by="operator", up_to=seen
    )
    await send_due(now=later())
    assert len(push_service.for_(device)) == 1
    assert (await push_rows())[-1] == ("message", "skipped", seen)


async def test_operators_get_only_what_they_chose(
    connect_visitor, make_operator, subscribe, push_service
):
    ayse, mehmet = await make_operator("ayse"), await make_operator("mehmet")
    ayse_device = await database_sync_to_async(subscribe)(operator_id=ayse.pk)
    mehmet_device = await database_sync_to_async(subscribe)(operator_id=mehmet.pk)
    await database_sync_to_async(services.save_preferences)(
        operator_id=mehmet.pk,
        new_conversations=False,
        messages=True,
        mentions=True,
        quiet_from=None,
        quiet_until=None,
        time_zone="Europe/Istanbul",
    )
    visitor = await connect_visitor()
    thread = visitor.hello["thread"]["id"]
    await post(visitor, "first")
    await send_due(now=later())
    assert [len(push_service.for_(d)) for d in (ayse_device, mehmet_device)] == [1, 0]

    # Assigned to Ayşe: Mehmet is not told of its messages.
    await database_sync_to_async(chat_services.assign_thread)(
        thread_id=thread, operator_id=ayse.pk
    )
    await post(visitor, "second")
    await send_due(now=later())
    assert [len(push_service.for_(d)) for d in (ayse_device, mehmet_device)] == [2, 0]

    # Ayşe's quiet hours cover the whole day but a minute: nothing now.
    now = timezone.localtime(timezone.now(), dt.UTC)
    await database_sync_to_async(services.save_preferences)(
        operator_id=ayse.pk,
        new_conversations=True,
        messages=True,
        mentions=True,
        quiet_from=(now - dt.timedelta(hours=1)).time(),
        quiet_until=(now + dt.timedelta(hours=1)).time(),
        time_zone="UTC",
    )
    await post(visitor, "third")
    await send_due(now=later())
    assert [len(push_service.for_(d)) for d in (ayse_device, mehmet_device)] == [2, 0]


async def test_gone_subscriptions_are_deleted_and_failures_retried_with_backoff(
    connect_visitor, make_operator, subscribe, push_service
):
    ayse = await make_operator("ayse")
    gone = await database_sync_to_async(subscribe)(operator_id=ayse.pk)
    busy = await database_sync_to_async(subscribe)(operator_id=ayse.pk)
    push_service.answer(gone, 410)
    push_service.answer(busy, 503)
    visitor = await connect_visitor()
    message = await post(visitor, "hello")

    first = later()
    await send_due(now=first)
    endpoints = await database_sync_to_async(
        lambda: list(PushSubscription.objects.values_list("endpoint", flat=True))
    )()
    assert endpoints == [busy["endpoint"]]
    entry = await database_sync_to_async(
        lambda: OutboxEntry.objects.get(channel=PUSH_CHANNEL)
    )()
    assert (entry.status, entry.attempts) == ("pending", 1)
    assert "HTTP 503" in entry.last_error
    assert entry.next_attempt_at >= first + dt.timedelta(seconds=14)
    assert await send_due(now=first + dt.timedelta(seconds=1)) == 0  # backing off

    # Too many requests: the service's Retry-After is waited for.
    push_service.answer(busy, 429, **{"Retry-After": "600"})
    second = entry.next_attempt_at + dt.timedelta(seconds=1)
    await send_due(now=second)
    entry = await database_sync_to_async(lambda: OutboxEntry.objects.get(pk=entry.pk))()
    assert entry.attempts == 2
    assert entry.next_attempt_at >= second + dt.timedelta(seconds=599)

    await send_due(now=entry.next_attempt_at + dt.timedelta(seconds=1))
    [got] = push_service.for_(busy)
    assert got.payload["body"] == "hello"
    assert await push_rows() == [("message", "done", message)]


async def test_a_reply_is_pushed_to_a_visitor_only_while_their_page_is_closed(
    connect_visitor, connect_operator, subscribe, push_service
):
    visitor = await connect_visitor()
    thread = visitor.hello["thread"]["id"]
    await post(visitor, "hi")
    visitor_id = await database_sync_to_async(
        lambda: Thread.objects.get(pk=thread).visitor_id
    )()
    device = await database_sync_to_async(subscribe)(visitor_id=visitor_id)
    inbox = await connect_operator()
    await inbox.send(type="message.send", client_id=new_id(), thread=thread, body="x")
    await inbox.receive_type("ack")
    await send_due(now=later())
    assert push_service.for_(device) == []  # their page is open

    await visitor.close()
    await inbox.send(
        type="message.send", client_id=new_id(), thread=thread, body="Still there?"
    )
    await inbox.receive_type("ack")
    await send_due(now=later())
    [got] = push_service.for_(device)
    assert got.payload["body"] == "Still there?"  # not "x": it was on their page
    assert got.payload["url"] == "/"
    assert got.payload["title"] == "New reply from ayse"
