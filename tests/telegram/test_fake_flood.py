"""The fake Bot API enforces Telegram's flood control: one message a second in a
chat (short bursts pass), 20 a minute in a group, 30 a second in all, and flood
waits that the calls breaking them are recorded against."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from tests.telegram.clock import VirtualClock
from tests.telegram.fakebot import OPERATOR_CHAT_ID, FakeBotApi, FloodRules

CHAT = OPERATOR_CHAT_ID
pytestmark = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)


def seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else value


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def fake(clock: VirtualClock) -> AsyncIterator[FakeBotApi]:
    with FakeBotApi(clock=clock.now) as api:
        yield api


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(
        fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url
    ) as bot:
        yield bot


async def test_a_fourth_message_within_three_seconds_in_a_chat_is_refused(
    fake: FakeBotApi, bot: Bot, clock: VirtualClock
) -> None:
    for n in range(3):
        await bot.send_message(CHAT, f"bir {n}")
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(CHAT, "dört")

    assert 1 <= seconds(refused.value.retry_after) <= 3
    assert len(fake.sent_messages(chat_id=CHAT)) == 3


async def test_a_group_takes_twenty_messages_a_minute(
    fake: FakeBotApi, bot: Bot, clock: VirtualClock
) -> None:
    for n in range(20):
        await bot.send_message(CHAT, f"mesaj {n}")
        clock.advance(1.5)  # one a second and a half: the chat's own limit holds
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(CHAT, "yirmi bir")

    assert seconds(refused.value.retry_after) == 30  # the first leaves the window


async def test_a_private_chat_is_not_held_to_the_group_limit(
    fake: FakeBotApi, bot: Bot, clock: VirtualClock
) -> None:
    fake.add_chat(42, type="private", first_name="Ayşe")
    for n in range(25):
        await bot.send_message(42, f"kod {n}")
        clock.advance(1.5)

    assert len(fake.sent_messages(chat_id=42)) == 25


async def test_thirty_messages_a_second_in_all_chats(
    fake: FakeBotApi, bot: Bot
) -> None:
    for user_id in range(1, 32):
        fake.add_chat(user_id, type="private", first_name="Kullanıcı")
    for user_id in range(1, 31):
        await bot.send_message(user_id, "merhaba")
    with pytest.raises(RetryAfter):
        await bot.send_message(31, "merhaba")


async def test_a_call_during_a_flood_wait_is_refused_and_recorded(
    fake: FakeBotApi, bot: Bot, clock: VirtualClock
) -> None:
    fake.fail_next("sendChatAction", status=429, retry_after=5)
    with pytest.raises(RetryAfter):
        await bot.send_chat_action(CHAT, "typing")
    clock.advance(4)
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(CHAT, "too early")
    clock.advance(1)
    await bot.send_message(CHAT, "on time")

    assert seconds(refused.value.retry_after) == 1
    assert [(v.method, v.chat_id) for v in fake.flood_violations] == [
        ("sendMessage", CHAT)
    ]
    assert [m["text"] for m in fake.sent_messages()] == ["on time"]


async def test_a_flood_wait_without_a_chat_holds_its_method(
    fake: FakeBotApi, bot: Bot
) -> None:
    update = fake.operator_document(b"%PDF-1.7", user_id=42)
    file_id = update["message"]["document"]["file_id"]
    fake.fail_next("getFile", status=429, retry_after=2)
    with pytest.raises(RetryAfter):
        await bot.get_file(file_id)
    with pytest.raises(RetryAfter):
        await bot.get_file(file_id)
    await bot.send_message(CHAT, "other calls pass")

    assert [v.method for v in fake.flood_violations] == ["getFile"]


async def test_scaled_rules_keep_the_counts_in_shorter_windows(
    clock: VirtualClock,
) -> None:
    rules = FloodRules().scaled(0.1)
    with FakeBotApi(flood=rules, clock=clock.now) as fake:
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            for n in range(3):
                await bot.send_message(CHAT, f"hızlı {n}")
            with pytest.raises(RetryAfter):
                await bot.send_message(CHAT, "bir fazla")
            clock.advance(1.0)  # retry_after: whole seconds, as Telegram's
            await bot.send_message(CHAT, "yeniden")

    assert rules.per_group is not None
    assert (rules.per_group.count, rules.per_group.seconds) == (20, pytest.approx(6))
