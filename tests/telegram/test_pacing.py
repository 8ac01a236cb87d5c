"""The group's budget, spent well: a burst across conversations under Telegram's own
limits (no 429, each conversation in order), a new conversation served before a busy
one's backlog, what waited sent as one message, and the noise kept down (leaving
notes). In this process, on a virtual clock."""

from __future__ import annotations

import asyncio
import re

import pytest

from telegram_bridge.bot import Bridge
from tests.telegram.clock import VirtualClock
from tests.telegram.fakebot import FakeBotApi
from tests.telegram.harness import deliver_all, new_thread, texts, visitor_writes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]


async def test_a_burst_across_conversations_is_paced_and_kept_in_order(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock
) -> None:
    threads = [await new_thread(f"V{n}") for n in range(5)]
    start = clock.now()
    due = [(start + i * 10 / 60, threads[i % 5], f"m{i:02d}") for i in range(60)]
    while due or await bridge.delivery.backlog():
        while due and due[0][0] <= clock.now():
            _at, thread, body = due.pop(0)
            await visitor_writes(thread, body)
        if not await bridge.delivery.deliver_next():
            clock.advance(0.1)

    calls = bot_api.calls("sendMessage")
    assert {c.status for c in calls} == {200}  # no 429 provoked
    for topic in bot_api.topics:
        bodies = re.findall(r"m\d\d", "\n".join(texts(bot_api, topic)))
        assert bodies == sorted(bodies) and len(bodies) == 12
    assert len(calls) < 60  # what waited went together
    assert calls[-1].at - start < 30  # not the minute a full window would take


async def test_a_new_conversation_is_served_before_a_busy_ones_backlog(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock
) -> None:
    busy = await new_thread("Busy")
    await visitor_writes(busy, *(f"{n} " + "x" * 1500 for n in range(20)))
    assert await bridge.delivery.deliver_next()  # the busy one's topic is made
    newcomer = await new_thread("New")
    await visitor_writes(newcomer, "hello?")
    await deliver_all(bridge, clock)

    order = [c.params.get("text", "") for c in bot_api.calls("sendMessage")]
    newcomer_at = order.index("hello?")
    assert newcomer_at <= 2 < len(order) - 5  # long before the backlog is through


async def test_what_waited_for_the_budget_goes_as_one_message(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock
) -> None:
    thread = await new_thread("Elif")
    for n in range(8):  # the budget of the group's bucket goes on the first ones
        await visitor_writes(thread, f"message {n}")
        await bridge.delivery.deliver_next()
    await deliver_all(bridge, clock)

    sent = texts(bot_api)
    assert len(sent) < 8
    assert any("• Elif: message 6\n• Elif: message 7" in text for text in sent)


# --- Leaving notes ---------------------------------------------------------------


def presence(thread: int, online: bool) -> dict[str, object]:
    return {"type": "chat.presence", "thread": thread, "visitor_online": online}


def visitor_message(thread: int) -> dict[str, object]:
    return {
        "type": "chat.messages",
        "messages": [{"thread": thread, "author": "visitor", "body": "..."}],
    }


async def notes_after(bridge: Bridge, clock: VirtualClock, api: FakeBotApi) -> int:
    clock.advance(61)  # longer than TELEGRAM_LEAVE_NOTE_SECONDS
    await asyncio.sleep(0)
    await bridge.mirror.wait_idle()
    return sum("left the page" in text for text in texts(api))


async def test_a_visitor_moving_between_pages_is_not_noted_as_leaving(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock
) -> None:
    thread = await new_thread()
    await visitor_writes(thread, "hi")
    await deliver_all(bridge, clock)
    clock.autojump = False  # time moves when the test says

    await bridge.mirror.on_event(presence(thread, False))
    clock.advance(2)
    await bridge.mirror.on_event(presence(thread, True))  # the next page opened

    assert await notes_after(bridge, clock, bot_api) == 0


async def test_a_visitor_who_leaves_is_noted_once_until_they_write_again(
    bot_api: FakeBotApi, bridge: Bridge, clock: VirtualClock
) -> None:
    thread = await new_thread()
    await visitor_writes(thread, "hi")
    await deliver_all(bridge, clock)
    clock.autojump = False

    await bridge.mirror.on_event(presence(thread, False))
    first = await notes_after(bridge, clock, bot_api)
    await bridge.mirror.on_event(presence(thread, True))
    await bridge.mirror.on_event(presence(thread, False))
    again = await notes_after(bridge, clock, bot_api)
    await bridge.mirror.on_event(visitor_message(thread))
    await bridge.mirror.on_event(presence(thread, False))
    after_writing = await notes_after(bridge, clock, bot_api)

    assert (first, again, after_writing) == (1, 1, 2)
