"""The visitor's email in the chat (the ``visitor.email`` frame) and the transcript
asked for from the page (``transcript.send``)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from chat.email import worker
from chat.models import OutboxEntry, Visitor

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def visitor_row(visitor_id: int) -> Visitor:
    return Visitor.objects.get(pk=visitor_id)


async def test_hello_tells_the_page_when_to_ask_for_an_email(
    connect_visitor, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.SOHBET_EMAIL_ASK = "always"
    settings.SOHBET_EMAIL_REQUIRED = True
    visitor = await connect_visitor()

    assert visitor.hello["email"] == {
        "enabled": True,
        "address": "",
        "unsubscribed": False,
        "ask": "always",
        "required": True,
    }


async def test_an_email_given_before_the_first_message_is_stored_unverified(
    connect_visitor,
) -> None:  # type: ignore[no-untyped-def]
    visitor = await connect_visitor()

    await visitor.send(type="visitor.email", email="  ada@example.com ")
    answer = await visitor.receive_type("email")

    assert answer["address"] == "ada@example.com"
    row = await visitor_row(visitor.hello["visitor"]["id"])
    assert (row.email, row.email_source, row.identity_verified) == (
        "ada@example.com",
        "visitor",
        False,
    )


async def test_an_invalid_email_is_refused_and_changes_nothing(
    connect_visitor,
) -> None:  # type: ignore[no-untyped-def]
    visitor = await connect_visitor(written=True)

    await visitor.send(type="visitor.email", email="ada@")
    error = await visitor.receive_type("error")

    assert (error["code"], error["frame"]) == ("invalid", "visitor.email")
    assert (await visitor_row(visitor.hello["visitor"]["id"])).email == ""


async def test_the_email_is_known_on_the_next_connection(
    connect_visitor,
) -> None:  # type: ignore[no-untyped-def]
    visitor = await connect_visitor()
    await visitor.send(type="visitor.email", email="ada@example.com")
    await visitor.receive_type("email")

    again = await connect_visitor(visitor.cookie)

    assert again.hello["email"]["address"] == "ada@example.com"


async def test_a_transcript_is_queued_for_a_visitor_with_an_email(
    connect_visitor,
) -> None:  # type: ignore[no-untyped-def]
    visitor = await connect_visitor()
    await visitor.send(type="visitor.email", email="ada@example.com")
    await visitor.receive_type("email")
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="Hi")
    await visitor.receive_type("ack")

    await visitor.send(type="transcript.send")
    await visitor.receive_type("transcript")

    kinds = await database_sync_to_async(
        lambda: list(OutboxEntry.objects.values_list("channel", "kind"))
    )()
    assert kinds == [("email", "transcript")]


async def test_a_transcript_without_an_email_is_refused(
    connect_visitor,
) -> None:  # type: ignore[no-untyped-def]
    visitor = await connect_visitor()
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="Hi")
    await visitor.receive_type("ack")

    await visitor.send(type="transcript.send")
    error = await visitor.receive_type("error")

    assert (error["code"], error["frame"]) == ("invalid", "transcript.send")


async def test_operators_see_which_replies_went_by_email(
    connect_visitor, connect_operator, smtp_server
) -> None:  # type: ignore[no-untyped-def]
    visitor = await connect_visitor()
    await visitor.send(type="visitor.email", email="ada@example.com")
    await visitor.receive_type("email")
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="Hi")
    await visitor.receive_type("ack")
    thread = visitor.hello["thread"]["id"]
    operator = await connect_operator()
    await operator.send(
        type="message.send", thread=thread, client_id=str(uuid.uuid4()), body="Hello!"
    )
    reply = (await operator.receive_type("ack"))["id"]

    delay = settings.SOHBET_EMAIL_UNREAD_DELAY
    later = timezone.now() + dt.timedelta(seconds=delay + 1)
    await worker.asend_due(now=later)  # as the web process's task does

    live = await operator.receive_type("emailed")
    assert (live["thread"], live["messages"]) == (thread, [reply])
    await operator.send(type="history", thread=thread, before=None, limit=50)
    await operator.receive_type("history")
    assert (await operator.receive_type("emailed"))["messages"] == [reply]


async def test_transcripts_asked_for_from_one_network_are_limited(
    connect_visitor, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from chat.consumers import visitor as visitor_consumer
    from realtime.ratelimit import Rule

    monkeypatch.setattr(visitor_consumer, "TRANSCRIPTS_PER_NETWORK", Rule(1, 3600))
    for address in ("ada@example.com", "bob@example.com"):
        visitor = await connect_visitor()  # a new visitor, the same network
        await visitor.send(type="visitor.email", email=address)
        await visitor.receive_type("email")
        await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="Hi")
        await visitor.receive_type("ack")
        await visitor.send(type="transcript.send")

    error = await visitor.receive_type("error")

    assert (error["code"], error["frame"]) == ("rate_limited", "transcript.send")
    count = await database_sync_to_async(
        OutboxEntry.objects.filter(kind="transcript").count
    )()
    assert count == 1


async def test_without_email_set_up_nothing_is_offered_or_queued(
    connect_visitor, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.SOHBET_EMAIL_ENABLED = False  # production without SOHBET_EMAIL_URL
    settings.SOHBET_EMAIL_ASK = "never"
    visitor = await connect_visitor()
    assert visitor.hello["email"]["enabled"] is False
    await visitor.send(type="visitor.email", email="ada@example.com")
    await visitor.receive_type("email")
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="Hi")
    await visitor.receive_type("ack")

    await visitor.send(type="transcript.send")
    error = await visitor.receive_type("error")

    assert (error["code"], error["frame"]) == ("forbidden", "transcript.send")
