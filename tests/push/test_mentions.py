"""Mentions in private notes pushed to the operators they name (docs/notifications.md):
through the push outbox, to those who want mentions, in their device's language,
through a push service on 127.0.0.1 that checks VAPID and decrypts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat import services as chat_services
from chat.models import OutboxEntry, Thread
from chat.push import services, worker
from chat.push.rules import PUSH_CHANNEL

pytestmark = pytest.mark.django_db(transaction=True)

send_due = database_sync_to_async(worker.send_due)
subscribed = database_sync_to_async(lambda subscribe, **kw: subscribe(**kw))


@database_sync_to_async
def push_rows() -> list[tuple[str, str]]:
    """The push rows of notes (the visitor's message has its own)."""
    return list(
        OutboxEntry.objects.filter(channel=PUSH_CHANNEL, note__isnull=False)
        .order_by("pk")
        .values_list("kind", "status")
    )


async def write_note(socket: Any, thread: int, body: str) -> None:
    await socket.send(
        type="note.add", thread=thread, client_id=str(uuid.uuid4()), body=body
    )
    await socket.receive_type("note.ack")


add_note = database_sync_to_async(chat_services.add_note)


@pytest.fixture
def new_thread(connect_visitor: Any, settings: Any) -> Any:
    """A conversation a visitor started; its message is not pushed during the test
    (its delay outlasts it)."""
    settings.SOHBET_PUSH_DELAY = 3600

    async def start() -> int:
        visitor = await connect_visitor()
        await visitor.send(
            type="message.send", client_id=str(uuid.uuid4()), body="Hello"
        )
        await visitor.receive_type("ack")
        return int(visitor.hello["thread"]["id"])

    return start


async def test_a_mention_is_pushed_to_the_operator_named_in_their_language(
    new_thread, connect_operator, make_operator, subscribe, push_service
):
    ayse = await connect_operator()
    mehmet, zeynep = await make_operator("mehmet"), await make_operator("zeynep")
    author_device = await subscribed(subscribe, operator_id=ayse.user.pk)
    laptop = await subscribed(subscribe, operator_id=mehmet.pk, language="en")
    phone = await subscribed(subscribe, operator_id=mehmet.pk, language="tr")
    bystander = await subscribed(subscribe, operator_id=zeynep.pk)
    thread = await new_thread()

    await write_note(ayse, thread, "@mehmet can you call them back?")

    assert await push_rows() == [("mention", "pending")]
    assert await send_due(now=timezone.now()) == 1  # due at once
    assert push_service.refused == []
    [english] = push_service.for_(laptop)
    [turkish] = push_service.for_(phone)
    number = (await Thread.objects.aget(pk=thread)).visitor_id  # "Visitor #<id>"
    visitor = f"#{number}"
    assert english.payload["title"] == f"ayse mentioned you · Visitor {visitor}"
    assert turkish.payload["title"] == f"ayse sizden bahsetti · Ziyaretçi {visitor}"
    for got in (english, turkish):
        assert got.payload["body"] == "@mehmet can you call them back?"
        assert got.payload["url"] == f"/admin/inbox/#thread-{thread}"
        assert got.payload["tag"] == got.headers["topic"] == f"thread-{thread}"
    assert push_service.for_(author_device) == []
    assert push_service.for_(bystander) == []
    assert await push_rows() == [("mention", "done")]


async def test_notes_mentioning_an_operator_in_one_pass_are_one_notification(
    new_thread, make_operator, subscribe, push_service
):
    ayse, mehmet = await make_operator("ayse"), await make_operator("mehmet")
    device = await subscribed(subscribe, operator_id=mehmet.pk)
    thread = await new_thread()
    for body in ("@mehmet first", "@mehmet second"):
        await add_note(thread_id=thread, author=ayse, body=body)

    await send_due(now=timezone.now())

    [got] = push_service.for_(device)
    assert got.payload["body"] == "@mehmet second (2 mentions)"


async def test_a_transfer_pushes_its_note_to_the_new_assignee(
    new_thread, make_operator, subscribe, push_service
):
    ayse, mehmet = await make_operator("ayse"), await make_operator("mehmet")
    device = await subscribed(subscribe, operator_id=mehmet.pk)
    thread = await new_thread()

    await database_sync_to_async(chat_services.transfer_thread)(
        thread_id=thread, by=ayse, operator_id=mehmet.pk, text="VIP, be quick"
    )
    await send_due(now=timezone.now())

    [got] = push_service.for_(device)
    assert got.payload["title"].startswith("ayse mentioned you")
    assert got.payload["body"] == "Transferred to mehmet: VIP, be quick"


async def test_an_operator_who_turned_mentions_off_is_not_pushed(
    new_thread, make_operator, subscribe, push_service
):
    ayse, mehmet = await make_operator("ayse"), await make_operator("mehmet")
    device = await subscribed(subscribe, operator_id=mehmet.pk)
    await database_sync_to_async(services.save_preferences)(
        operator_id=mehmet.pk,
        new_conversations=True,
        messages=True,
        mentions=False,
        quiet_from=None,
        quiet_until=None,
        time_zone="",
    )
    thread = await new_thread()

    await add_note(thread_id=thread, author=ayse, body="@mehmet look")
    await send_due(now=timezone.now())

    assert push_service.for_(device) == []
    assert await push_rows() == [("mention", "skipped")]


async def test_a_mention_in_quiet_hours_is_not_pushed(
    new_thread, make_operator, subscribe, push_service
):
    ayse, mehmet = await make_operator("ayse"), await make_operator("mehmet")
    device = await subscribed(subscribe, operator_id=mehmet.pk)
    now = timezone.localtime(timezone.now(), dt.UTC)
    await database_sync_to_async(services.save_preferences)(
        operator_id=mehmet.pk,
        new_conversations=True,
        messages=True,
        mentions=True,
        quiet_from=(now - dt.timedelta(hours=1)).time(),
        quiet_until=(now + dt.timedelta(hours=1)).time(),
        time_zone="UTC",
    )
    thread = await new_thread()

    await add_note(thread_id=thread, author=ayse, body="@mehmet look")
    await send_due(now=timezone.now())

    assert push_service.for_(device) == []


async def test_a_note_naming_no_operator_queues_and_pushes_nothing(
    new_thread, make_operator, subscribe, push_service
):
    ayse = await make_operator("ayse")
    devices = [await subscribed(subscribe, operator_id=ayse.pk)]
    for name in ("mehmet", "zeynep"):
        operator = await make_operator(name)
        devices.append(await subscribed(subscribe, operator_id=operator.pk))
    thread = await new_thread()

    for body in ("@nobody look", "no mention here", "@ayse note to self"):
        await add_note(thread_id=thread, author=ayse, body=body)
    await send_due(now=timezone.now())

    assert await push_rows() == []
    assert all(push_service.for_(d) == [] for d in devices)


async def test_without_push_keys_a_mention_queues_no_push(
    new_thread, make_operator, settings
):
    settings.SOHBET_PUSH_ENABLED = False
    ayse, _mehmet = await make_operator("ayse"), await make_operator("mehmet")
    thread = await new_thread()

    await add_note(thread_id=thread, author=ayse, body="@mehmet look")

    assert await push_rows() == []
