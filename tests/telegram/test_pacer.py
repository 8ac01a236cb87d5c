"""The pacer keeps the bridge under Telegram's limits, against the fake Bot API that
enforces them, on a virtual clock shared by both (no test waits in real time)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from telegram_bridge.pacer import Limits, Pacer, Rate
from tests.telegram.clock import VirtualClock
from tests.telegram.fakebot import OPERATOR_CHAT_ID, FakeBotApi

GROUP = OPERATOR_CHAT_ID
pytestmark = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def fake(clock: VirtualClock) -> AsyncIterator[FakeBotApi]:
    with FakeBotApi(clock=clock.now) as api:  # Telegram's limits
        yield api


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        yield bot


@pytest.fixture
def pacer(clock: VirtualClock) -> Pacer:
    return Pacer(Limits(), clock)


def most_within(times: list[float], seconds: float) -> int:
    """The most of ``times`` that fall within any ``seconds``."""
    return max(
        sum(1 for other in times if start <= other < start + seconds) for start in times
    )


async def test_a_long_burst_to_the_group_provokes_no_429(
    fake: FakeBotApi, bot: Bot, pacer: Pacer, clock: VirtualClock
) -> None:
    for n in range(45):
        await pacer.call(GROUP, lambda n=n: bot.send_message(GROUP, f"m{n}"))

    times = [c.at for c in fake.calls("sendMessage")]
    assert [c.status for c in fake.calls("sendMessage")] == [200] * 45
    assert most_within(times, 60) <= 19 and most_within(times, 3) <= 3


async def test_the_first_messages_go_at_once_then_they_spread(
    fake: FakeBotApi, bot: Bot, pacer: Pacer, clock: VirtualClock
) -> None:
    start = clock.now()
    for n in range(8):
        await pacer.call(GROUP, lambda n=n: bot.send_message(GROUP, f"m{n}"))

    delays = [c.at - start for c in fake.calls("sendMessage")]
    assert delays[0] == 0
    gaps = [later - earlier for earlier, later in zip(delays, delays[1:], strict=False)]
    assert max(gaps) < 6  # never the minute-long stall of a full window


async def test_a_429_on_typing_holds_every_call_to_the_chat(
    fake: FakeBotApi, bot: Bot, pacer: Pacer, clock: VirtualClock
) -> None:
    fake.fail_next("sendChatAction", status=429, retry_after=7)
    with pytest.raises(RetryAfter):
        await pacer.call(
            GROUP,
            lambda: bot.send_chat_action(GROUP, "typing"),
            posts=False,
            attempts=1,
        )
    started = clock.now()
    await pacer.call(GROUP, lambda: bot.send_message(GROUP, "after the wait"))

    assert fake.flood_violations == []
    assert fake.calls("sendMessage")[0].at - started >= 7


async def test_a_429_is_waited_out_and_the_call_made_again(
    fake: FakeBotApi, bot: Bot, pacer: Pacer
) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=3, times=2)

    await pacer.call(GROUP, lambda: bot.send_message(GROUP, "third time"))

    assert [c.status for c in fake.calls("sendMessage")] == [429, 429, 200]
    assert fake.flood_violations == []


async def test_a_held_chat_does_not_hold_another(
    fake: FakeBotApi, bot: Bot, pacer: Pacer, clock: VirtualClock
) -> None:
    fake.add_chat(42, type="private", first_name="Ayşe")
    pacer.hold(GROUP, 30)
    started = clock.now()

    await pacer.call(42, lambda: bot.send_message(42, "not held"))

    assert clock.now() == started
    assert pacer.ready_in(GROUP) == 30


async def test_typing_is_skipped_rather_than_late(
    fake: FakeBotApi, bot: Bot, pacer: Pacer
) -> None:
    pacer.hold(GROUP, 5)

    sent = await pacer.call_if_soon(
        GROUP, lambda: bot.send_chat_action(GROUP, "typing"), within=1
    )

    assert sent is False
    assert fake.calls("sendChatAction") == []


async def test_messages_to_many_chats_stay_under_thirty_a_second(
    fake: FakeBotApi, bot: Bot, pacer: Pacer
) -> None:
    for user_id in range(1, 61):
        fake.add_chat(user_id, type="private", first_name="Kullanıcı")
    for user_id in range(1, 61):
        await pacer.call(user_id, lambda u=user_id: bot.send_message(u, "kod"))

    assert {c.status for c in fake.calls("sendMessage")} == {200}
    assert most_within([c.at for c in fake.calls("sendMessage")], 1) <= 29


def test_rates_are_read_as_count_per_seconds() -> None:
    assert Rate.parse("20/60") == Rate(20, 60.0)
    with pytest.raises(ValueError):
        Rate.parse("20")
    with pytest.raises(ValueError):
        Rate.parse("0/60")
