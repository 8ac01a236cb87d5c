"""Every call the outbox makes meets every class of Telegram error: nothing escapes,
what can pass later is tried again (a 429 after its retry_after, without counting a
try), nothing is given up, and the delivery goes through once Telegram takes it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
from channels.db import database_sync_to_async

from chat import services as chat_services
from chat.models import OutboxEntry, Thread
from telegram_bridge.bot import Bridge
from tests.telegram.clock import VirtualClock
from tests.telegram.fakebot import FakeBotApi
from tests.telegram.harness import (
    FAULTS,
    FILES,
    NEW_CHAT_ID,
    deliver_all,
    new_thread,
    outbox,
    texts,
    visitor_sends_file,
    visitor_writes,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

Check = Callable[[], Awaitable[None]]


async def with_topic(bridge: Bridge, clock: VirtualClock, name: str = "") -> int:
    """A thread whose topic exists (its first message delivered)."""
    thread = await new_thread(name)
    await visitor_writes(thread, "first")
    await deliver_all(bridge, clock)
    return thread


async def send_message(api: FakeBotApi, bridge: Bridge, clock: VirtualClock) -> Check:
    thread = await with_topic(bridge, clock)
    await visitor_writes(thread, "second")

    async def check() -> None:
        assert "second" in texts(api)

    return check


async def create_topic(api: FakeBotApi, bridge: Bridge, clock: VirtualClock) -> Check:
    thread = await new_thread("Elif")
    await visitor_writes(thread, "hello")

    async def check() -> None:
        assert [t.name for t in api.topics.values()] == [f"Elif · #{thread}"]
        assert texts(api) == ["hello"]

    return check


def send_file(method: str) -> Callable[..., Awaitable[Check]]:
    async def scenario(api: FakeBotApi, bridge: Bridge, clock: VirtualClock) -> Check:
        thread = await with_topic(bridge, clock)
        await visitor_sends_file(thread, *FILES[method])

        async def check() -> None:
            assert [c.status for c in api.calls(method)][-1] == 200

        return check

    return scenario


async def rename_topic(api: FakeBotApi, bridge: Bridge, clock: VirtualClock) -> Check:
    thread = await with_topic(bridge, clock)
    visitor_id = await database_sync_to_async(
        lambda: Thread.objects.get(pk=thread).visitor_id
    )()
    await database_sync_to_async(chat_services.rename_visitor)(
        visitor_id=visitor_id, name="Elif"
    )
    await visitor_writes(thread, "named now")

    async def check() -> None:
        assert "named now" in texts(api)
        bridge.delivery.request_rename(thread)  # a name given up waits for a cue
        await deliver_all(bridge, clock)
        assert [t.name for t in api.topics.values()] == [f"Elif · #{thread}"]

    return check


async def close_topic(api: FakeBotApi, bridge: Bridge, clock: VirtualClock) -> Check:
    thread = await with_topic(bridge, clock)
    await database_sync_to_async(chat_services.close_thread)(thread_id=thread)

    async def check() -> None:
        assert [t.closed for t in api.topics.values()] == [True]

    return check


async def reopen_topic(api: FakeBotApi, bridge: Bridge, clock: VirtualClock) -> Check:
    thread = await with_topic(bridge, clock)
    await database_sync_to_async(chat_services.close_thread)(thread_id=thread)
    await deliver_all(bridge, clock)
    await visitor_writes(thread, "still there?")

    async def check() -> None:
        assert [t.closed for t in api.topics.values()] == [False]
        assert texts(api)[-1] == "still there?"

    return check


SCENARIOS: dict[str, Callable[..., Awaitable[Check]]] = {
    "sendMessage": send_message,
    "createForumTopic": create_topic,
    "editForumTopic": rename_topic,
    "closeForumTopic": close_topic,
    "reopenForumTopic": reopen_topic,
    **{method: send_file(method) for method in FILES},
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("method", SCENARIOS)
async def test_each_outbox_call_survives_each_telegram_error(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock, method: str, fault: str
) -> None:
    check = await SCENARIOS[method](bot_api, bridge, clock)
    bot_api.fail_next(method, **FAULTS[fault])

    while not bot_api.calls(method) or bot_api.calls(method)[-1].status == 200:
        assert await bridge.delivery.deliver_next()  # nothing escapes
    after_error = await outbox()
    await deliver_all(bridge, clock)

    assert all(status != "failed" for _kind, status, _tries in after_error)
    tries = [t for _kind, status, t in after_error if status == "pending"]
    if method == "editForumTopic" and fault in ("bad_request", "network"):
        assert tries == []  # a topic's name does not hold messages back
    else:
        assert tries[0] == (0 if fault == "retry_after" else 1)  # a 429 is no try
    await check()
    assert {status for _kind, status, _tries in await outbox()} == {"done"}


async def test_a_429_is_waited_out_for_its_whole_retry_after(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock
) -> None:
    thread = await new_thread()
    await visitor_writes(thread, "hello")
    bot_api.fail_next("createForumTopic", status=429, retry_after=42)

    await deliver_all(bridge, clock)

    limited, created = bot_api.calls("createForumTopic")
    assert created.at - limited.at >= 42


async def test_an_upgraded_group_says_which_chat_id_to_set(
    bot_api: FakeBotApi,
    bridge: Bridge,
    clock: VirtualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    thread = await new_thread()
    await visitor_writes(thread, "hello")
    bot_api.fail_next("createForumTopic", status=400, migrate_to_chat_id=NEW_CHAT_ID)

    with caplog.at_level(logging.ERROR, logger="telegram_bridge"):
        await bridge.delivery.deliver_next()

    advice = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(f"set TELEGRAM_CHAT_ID={NEW_CHAT_ID}" in line for line in advice)
    assert not any(r.exc_info for r in caplog.records)


async def test_content_telegram_refuses_is_given_up_at_once(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock
) -> None:
    thread = await with_topic(bridge, clock)
    await visitor_writes(thread, "refused", "next")
    bot_api.fail_next(
        "sendMessage", status=400, description="Bad Request: message is too long"
    )

    await deliver_all(bridge, clock)

    assert [(kind, status) for kind, status, _ in await outbox()] == [
        ("message", "done"),
        ("message", "failed"),
        ("message", "failed"),
    ]


async def test_tries_are_bounded_then_the_delivery_is_given_up(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock
) -> None:
    thread = await with_topic(bridge, clock)
    await visitor_writes(thread, "never")
    bot_api.fail_next("sendMessage", status=502, times=8)

    await deliver_all(bridge, clock)

    assert (await outbox())[-1] == (OutboxEntry.Kind.MESSAGE, "failed", 8)
