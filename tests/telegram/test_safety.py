"""Blocks and ratings in Telegram: ``/block reason`` and ``/unblock`` in a topic, the
visitor's rating in the topic, and a blocked visitor triggering no delivery of any
kind (outbox, Bot API, operators' sockets, email)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from accounts import services as account_services
from chat import services
from chat.email import worker
from chat.models import Block, Message, OutboxEntry, Thread
from telegram_bridge.bot import Bridge
from tests.chat.email.conftest import smtp_server  # noqa: F401 - a fixture
from tests.chat.email.smtp import SMTPServer
from tests.telegram.clock import VirtualClock
from tests.telegram.fakebot import FakeBotApi
from tests.telegram.harness import deliver_all, new_thread, texts, visitor_writes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

OPERATOR = 5550001


async def linked_operator(make_operator: Any) -> Any:
    user = await make_operator("ayse")
    token = await database_sync_to_async(account_services.issue_link_token)(user=user)
    await database_sync_to_async(account_services.link_telegram)(
        token=token, telegram_user_id=OPERATOR, telegram_username="ayse_tg"
    )
    return user


async def test_block_and_unblock_in_a_topic(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock, make_operator: Any
) -> None:
    user = await linked_operator(make_operator)
    thread = await new_thread("Elif")
    await visitor_writes(thread, "buy cheap pills")
    await deliver_all(bridge, clock)
    topic = next(iter(bot_api.topics))

    bot_api.push_update(
        bot_api.command(
            "/block selling pills", user_id=OPERATOR, message_thread_id=topic
        )
    )
    await bridge.poll_once()
    block = await database_sync_to_async(Block.objects.get)()
    assert (block.reason, block.source, block.blocked_by_id) == (
        "selling pills",
        "telegram",
        user.pk,
    )
    assert any("Visitor blocked" in t for t in texts(bot_api, topic))

    bot_api.push_update(
        bot_api.command("/unblock", user_id=OPERATOR, message_thread_id=topic)
    )
    await bridge.poll_once()
    await database_sync_to_async(block.refresh_from_db)()
    assert block.lifted_at is not None and block.lifted_by_id == user.pk
    assert any("Visitor unblocked" in t for t in texts(bot_api, topic))
    bot_api.push_update(
        bot_api.command("/help", user_id=OPERATOR, message_thread_id=topic)
    )
    await bridge.poll_once()
    assert any("/block reason" in t for t in texts(bot_api, topic))


async def test_a_rating_shows_in_the_topic(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock
) -> None:
    thread = await new_thread("Elif")
    await visitor_writes(thread, "where is my order?")
    await database_sync_to_async(services.close_thread)(thread_id=thread)
    await database_sync_to_async(services.rate_thread)(
        thread_id=thread, score=4, comment="Quick, thanks"
    )
    await deliver_all(bridge, clock)
    topic = next(iter(bot_api.topics))
    assert texts(bot_api, topic)[-1] == "⭐ 4/5: Quick, thanks"
    assert bot_api.topics[topic].closed  # the rating follows the closing


async def test_a_blocked_visitor_triggers_no_delivery_of_any_kind(
    bot_api: FakeBotApi,
    bridge: Bridge,
    clock: VirtualClock,
    connect_visitor: Any,
    connect_operator: Any,
    smtp_server: SMTPServer,  # noqa: F811 - the fixture imported above
) -> None:
    operator = await connect_operator()
    visitor = await connect_visitor()
    await visitor.send(type="visitor.email", email="ada@example.com")
    await visitor.receive_type("email")
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="hi")
    await visitor.receive_type("ack")
    await deliver_all(bridge, clock)
    thread = visitor.hello["thread"]["id"]
    await database_sync_to_async(services.block_visitor)(
        visitor_id=visitor.hello["visitor"]["id"], reason="abuse"
    )
    await operator.receive_type("thread.extra")
    while not await operator.nothing_more():
        await operator.receive()
    calls_before = len(bot_api.calls())
    outbox_before = await database_sync_to_async(OutboxEntry.objects.count)()

    for body in ("spam 1", "spam 2"):
        client_id = str(uuid.uuid4())
        await visitor.send(type="message.send", client_id=client_id, body=body)
        refused = await visitor.receive_type("error", "ack")
        assert (refused["type"], refused["client_id"]) == ("error", client_id)
    await visitor.send(type="typing", active=True)
    await visitor.send(type="transcript.send")
    assert (await visitor.receive_type("error"))["frame"] == "transcript.send"

    # Nothing stored, nothing queued for Telegram or email.
    bodies = await database_sync_to_async(
        lambda: list(
            Message.objects.filter(thread_id=thread).values_list("body", flat=True)
        )
    )()
    assert bodies == ["hi"]
    assert await database_sync_to_async(OutboxEntry.objects.count)() == outbox_before
    # Nothing reaches the Bot API, however long the bridge runs.
    await deliver_all(bridge, clock)
    assert len(bot_api.calls()) == calls_before
    # No event reaches the operators' inbox.
    while not await operator.nothing_more():
        frame = await operator.receive()
        assert frame["type"] not in ("message", "messages", "thread", "typing")
    # No email reaches the SMTP server.
    later = timezone.now() + dt.timedelta(hours=1)
    assert await database_sync_to_async(worker.send_due)(now=later) == 0
    assert smtp_server.inbox.messages == []
    status = await database_sync_to_async(
        lambda: Thread.objects.get(pk=thread).status
    )()
    assert status == "open"
