"""The fake Bot API enforces Telegram's rules: flood limits, flood waits, closed
topics, upgraded groups, the file server's 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import ChatMigrated, InvalidToken, RetryAfter

from tests.telegram.clock import VirtualClock
from tests.telegram.fake_bot_api import OPERATOR_CHAT_ID, FakeBotApi, TopicClosed
from tests.telegram.fake_flood import FloodRules

CHAT = OPERATOR_CHAT_ID
MEMBER = 5550001  # a member of the group who is not an admin
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
    file_id = fake.add_file(b"%PDF-1.7", filename="a.pdf")
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


async def test_a_closed_topic_refuses_members_who_are_not_admins(
    fake: FakeBotApi,
) -> None:
    topic = fake.add_topic("Elif · #1").message_thread_id
    fake.push_update(
        fake.service_message("forum_topic_closed", message_thread_id=topic)
    )

    with pytest.raises(TopicClosed):
        fake.operator_text("cevap", user_id=MEMBER, message_thread_id=topic)
    fake.add_admin(MEMBER)
    fake.operator_text("cevap", user_id=MEMBER, message_thread_id=topic)


async def test_an_upgraded_group_answers_with_its_new_id(
    clock: VirtualClock,
) -> None:
    with FakeBotApi(chat_id=-4001, chat_type="group", is_forum=False) as fake:
        fake.migrate_chat(-4001, -1004001)
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            with pytest.raises(ChatMigrated) as migrated:
                await bot.send_message(-4001, "merhaba")
            await bot.send_message(-1004001, "merhaba")

        assert migrated.value.new_chat_id == -1004001
        assert fake.calls("sendMessage")[0].response["parameters"] == {
            "migrate_to_chat_id": -1004001
        }


async def test_a_queued_migration_error_has_telegrams_shape(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.fail_next("createForumTopic", status=400, migrate_to_chat_id=-1009)

    with pytest.raises(ChatMigrated) as migrated:
        await bot.create_forum_topic(CHAT, "Elif")

    assert migrated.value.new_chat_id == -1009


async def test_a_file_the_file_server_does_not_find_surfaces_as_invalid_token(
    fake: FakeBotApi, bot: Bot
) -> None:
    file_id = fake.add_file(b"%PDF-1.7", filename="a.pdf")
    fake.fail_next("downloadFile", status=404)
    remote = await bot.get_file(file_id)

    with pytest.raises(InvalidToken):
        await remote.download_as_bytearray()
    assert bytes(await remote.download_as_bytearray()) == b"%PDF-1.7"
