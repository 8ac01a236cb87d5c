"""Every call the bridge makes besides the outbox's meets every class of Telegram
error: polling, fetching an operator's file, the bot's replies, the visitor state
mirrored in the group, and start-up. Nothing escapes an update: the bridge waits
what Telegram says, tries again what can pass, and otherwise records it, tells the
operator where it makes sense, and goes on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async

from accounts import services as account_services
from chat.models import Message
from telegram_bridge.bot import Bridge, BridgeConfigError, build_application
from telegram_bridge.models import MessageLink
from tests.telegram.clock import VirtualClock
from tests.telegram.conftest import CHAT_ID, api_url
from tests.telegram.fakebot import BOT_USERNAME, FakeBotApi
from tests.telegram.harness import (
    FAULTS,
    NEW_CHAT_ID,
    deliver_all,
    new_thread,
    png_bytes,
    texts,
    visitor_writes,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

OPERATOR = 5550001
STRANGER = 5550999
ALL_FAULTS = [*FAULTS, "timed_out"]


def inject(api: FakeBotApi, method: str, fault: str, times: int = 1) -> None:
    if fault == "timed_out":  # the answer comes after the bridge stopped waiting
        api.delay_next(method, 3, times=times)
    else:
        api.fail_next(method, times=times, **FAULTS[fault])


async def linked_operator(api: FakeBotApi, bridge: Bridge, make_operator: Any) -> Any:
    user = await make_operator("ayse")
    token = await database_sync_to_async(account_services.issue_link_token)(user=user)
    await database_sync_to_async(account_services.link_telegram)(
        token=token, telegram_user_id=OPERATOR, telegram_username="ayse_tg"
    )
    return user


async def topic_of(api: FakeBotApi, bridge: Bridge, clock: VirtualClock) -> int:
    thread = await new_thread("Elif")
    await visitor_writes(thread, "can you show me?")
    await deliver_all(bridge, clock)
    return next(iter(api.topics))


@database_sync_to_async
def operator_messages() -> list[tuple[str, bool]]:
    return [
        (m.body, m.attachment_id is not None)
        for m in Message.objects.filter(author="operator").order_by("pk")
    ]


# --- getUpdates -------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
async def test_polling_survives_each_telegram_error(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock, fault: str
) -> None:
    inject(bot_api, "getUpdates", fault)
    delay = await bridge.poll_once()
    clock.advance(delay)  # the poll loop waits this long
    bot_api.push_update(bot_api.private_start(STRANGER))
    assert await bridge.poll_once() == 0

    assert delay == (30 if fault == "retry_after" else 2)
    assert any("Hello" in t for t in texts(bot_api))


# --- getFile and the file download --------------------------------------------------


@pytest.mark.parametrize(
    ("method", "fault", "fetched"),
    [
        (
            "getFile",
            fault,
            fault in ("retry_after", "network", "invalid_token", "timed_out"),
        )
        for fault in ALL_FAULTS
    ]
    + [("downloadFile", "not_found", True), ("downloadFile", "network", True)],
)
async def test_an_operator_file_survives_each_telegram_error(
    bot_api: FakeBotApi,
    bridge: Bridge,
    clock: VirtualClock,
    make_operator: Any,
    method: str,
    fault: str,
    fetched: bool,
) -> None:
    await linked_operator(bot_api, bridge, make_operator)
    topic = await topic_of(bot_api, bridge, clock)
    if fault == "not_found":
        bot_api.fail_next(method, status=404)
    else:
        inject(bot_api, method, fault)
    bot_api.push_update(
        bot_api.operator_photo(
            png_bytes(), caption="here", user_id=OPERATOR, message_thread_id=topic
        )
    )
    await bridge.poll_once()
    bot_api.push_update(
        bot_api.operator_text("and then", user_id=OPERATOR, message_thread_id=topic)
    )
    await bridge.poll_once()

    assert await operator_messages() == [("here", fetched), ("and then", False)]
    told = [t for t in texts(bot_api, topic) if "could not be fetched" in t]
    assert len(told) == (0 if fetched else 1)


async def test_a_file_that_never_comes_is_given_up_after_a_few_tries(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock, make_operator: Any
) -> None:
    await linked_operator(bot_api, bridge, make_operator)
    topic = await topic_of(bot_api, bridge, clock)
    bot_api.fail_next("downloadFile", status=404, times=100)
    update_id = bot_api.push_update(
        bot_api.operator_photo(png_bytes(), user_id=OPERATOR, message_thread_id=topic)
    )
    await bridge.poll_once()
    await bridge.poll_once()

    assert len(bot_api.calls("downloadFile")) == 4
    assert bot_api.confirmed_offset == update_id + 1  # not fetched again and again
    assert any("could not be fetched" in t for t in texts(bot_api, topic))


async def test_a_429_on_get_file_is_waited_for_its_retry_after(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock, make_operator: Any
) -> None:
    await linked_operator(bot_api, bridge, make_operator)
    topic = await topic_of(bot_api, bridge, clock)
    bot_api.fail_next("getFile", status=429, retry_after=9)
    bot_api.push_update(
        bot_api.operator_photo(png_bytes(), user_id=OPERATOR, message_thread_id=topic)
    )
    await bridge.poll_once()

    limited, fetched = bot_api.calls("getFile")
    assert fetched.at - limited.at >= 9
    assert await operator_messages() == [("", True)]


# --- The bot's replies ------------------------------------------------------------


@pytest.mark.parametrize("fault", ALL_FAULTS)
async def test_a_reply_of_the_bot_survives_each_telegram_error(
    bot_api: FakeBotApi, bridge: Bridge, fault: str
) -> None:
    inject(bot_api, "sendMessage", fault)
    bot_api.push_update(bot_api.operator_text("who are you?", user_id=STRANGER))
    await bridge.poll_once()
    bot_api.push_update(bot_api.operator_text("hello?", user_id=STRANGER))
    await bridge.poll_once()

    refusals = [t for t in texts(bot_api) if "Only linked operators" in t]
    # a 429 is waited out and the reply sent; after a late answer it was sent too
    assert len(refusals) == (2 if fault in ("retry_after", "timed_out") else 1)


# --- Visitor state mirrored in the group -----------------------------------------


@pytest.mark.parametrize("fault", ALL_FAULTS)
async def test_typing_survives_each_telegram_error(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock, fault: str
) -> None:
    thread = await new_thread()
    await visitor_writes(thread, "hi")
    await deliver_all(bridge, clock)
    inject(bot_api, "sendChatAction", fault)
    typing = {"type": "chat.typing", "thread": thread, "author": "visitor"}

    await bridge.mirror.on_event({**typing, "active": True})
    await visitor_writes(thread, "after typing")
    await deliver_all(bridge, clock)

    assert texts(bot_api)[-1] == "after typing"  # held while Telegram said to wait


@pytest.mark.parametrize("fault", ALL_FAULTS)
async def test_a_read_reaction_survives_each_telegram_error(
    bot_api: FakeBotApi,
    bridge: Bridge,
    clock: VirtualClock,
    make_operator: Any,
    fault: str,
) -> None:
    await linked_operator(bot_api, bridge, make_operator)
    topic = await topic_of(bot_api, bridge, clock)
    bot_api.push_update(
        bot_api.operator_text("Hello!", user_id=OPERATOR, message_thread_id=topic)
    )
    await bridge.poll_once()
    thread, up_to = await database_sync_to_async(
        lambda: (
            Message.objects.filter(author="operator")
            .values_list("thread_id", "pk")
            .get()
        )
    )()
    inject(bot_api, "setMessageReaction", fault)

    read = {"type": "chat.read", "thread": thread, "by": "visitor", "up_to": up_to}
    await bridge.mirror.on_event(read)

    reacted = await database_sync_to_async(
        lambda: MessageLink.objects.filter(reacted_at__isnull=False).count()
    )()
    assert reacted == 1  # set (a 429 waited out), or given up: not tried forever
    assert len(bot_api.reactions) == (1 if fault in ("retry_after", "timed_out") else 0)


@pytest.mark.parametrize("fault", ALL_FAULTS)
async def test_a_leaving_note_survives_each_telegram_error(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock, fault: str
) -> None:
    thread = await new_thread()
    await visitor_writes(thread, "bye")
    await deliver_all(bridge, clock)
    inject(bot_api, "sendMessage", fault)
    left = {"type": "chat.presence", "thread": thread, "visitor_online": False}

    await bridge.mirror.on_event(left)
    await bridge.mirror.wait_idle()

    notes = [t for t in texts(bot_api) if "left the page" in t]
    assert len(notes) == (1 if fault in ("retry_after", "timed_out") else 0)


# --- Start-up ---------------------------------------------------------------------


@pytest.fixture
async def fresh_bridge(
    bot_api: FakeBotApi, clock: VirtualClock, transactional_db: None
) -> AsyncIterator[Bridge]:
    """A bridge as a new process has it: not yet connected to Telegram."""
    bridge = build_application(
        token=bot_api.token,
        chat_id=CHAT_ID,
        base_url=api_url(bot_api),
        owner="fresh",
        clock=clock,
    )
    try:
        yield bridge
    finally:
        await bridge.bot.shutdown()


@pytest.mark.parametrize("method", ["getMe", "getChat"])
@pytest.mark.parametrize("fault", ["retry_after", "network", "bad_request"])
async def test_start_up_waits_out_what_can_pass(
    bot_api: FakeBotApi, fresh_bridge: Bridge, method: str, fault: str
) -> None:
    bot_api.fail_next(method, **FAULTS[fault])

    assert await fresh_bridge.connect(asyncio.Event()) is True
    assert (fresh_bridge.is_forum, fresh_bridge.bot_username) == (True, BOT_USERNAME)


@pytest.mark.parametrize(
    ("method", "fault", "says"),
    [
        ("getMe", "invalid_token", "TELEGRAM_BOT_TOKEN"),
        ("getChat", "forbidden", "add it back to the group"),
        ("getChat", "chat_migrated", f"set TELEGRAM_CHAT_ID={NEW_CHAT_ID}"),
        ("getChat", "chat_not_found", "check TELEGRAM_CHAT_ID"),
    ],
)
async def test_start_up_says_what_to_set_when_only_the_site_owner_can(
    bot_api: FakeBotApi, fresh_bridge: Bridge, method: str, fault: str, says: str
) -> None:
    if fault == "chat_not_found":
        bot_api.fail_next(method, status=400, description="Bad Request: chat not found")
    else:
        bot_api.fail_next(method, **FAULTS[fault])

    with pytest.raises(BridgeConfigError, match=says):
        await fresh_bridge.connect(asyncio.Event())
