"""The fake Bot API answers python-telegram-bot's real ``Bot`` as Telegram does,
for what the bridge calls: the error shapes (which become the exceptions the bridge
classifies), the rules of chats, topics and files, and how updates are delivered.
Flood control: test_fake_flood.py."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import Bot, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from tests.telegram.fakebot import (
    BOT_ID,
    BOT_USERNAME,
    OPERATOR_CHAT_ID,
    OPERATOR_USER_ID,
    FakeBotApi,
    FloodRules,
    TopicClosed,
)

CHAT = OPERATOR_CHAT_ID
MEMBER = 5550001  # a member of the group who is not an admin
pytestmark = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)


def seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else value


def make_bot(fake: FakeBotApi, token: str | None = None) -> Bot:
    return Bot(
        token or fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url
    )


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi(flood=FloodRules.off()) as api:  # flood control tested apart
        yield api


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with make_bot(fake) as bot:
        yield bot


# --- Error shapes ------------------------------------------------------------------


async def test_another_token_is_refused_as_invalid_token(fake: FakeBotApi) -> None:
    other = make_bot(fake, token="999:not-the-fake-token")
    try:
        with pytest.raises(InvalidToken, match="rejected"):
            await other.initialize()
    finally:
        await other.shutdown()


async def test_a_429_carries_retry_after_and_sends_nothing(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=3)

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(CHAT, "merhaba")

    assert seconds(raised.value.retry_after) == 3
    assert fake.calls("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert fake.sent_messages() == []


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_surface_as_network_error(
    fake: FakeBotApi, bot: Bot, status: int
) -> None:
    fake.fail_next("sendMessage", status=status)

    with pytest.raises(NetworkError) as raised:
        await bot.send_message(CHAT, "merhaba")

    assert type(raised.value) is NetworkError  # not BadRequest or TimedOut


async def test_a_400_surfaces_as_bad_request_with_its_description(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.fail_next(
        "createForumTopic", status=400, description="Bad Request: CHAT_NOT_MODIFIED"
    )

    with pytest.raises(BadRequest, match="(?i)chat_not_modified"):
        await bot.create_forum_topic(CHAT, "Ziyaretçi")


async def test_a_migration_error_carries_the_new_chat_id(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.fail_next("createForumTopic", status=400, migrate_to_chat_id=-1009)

    with pytest.raises(ChatMigrated) as migrated:
        await bot.create_forum_topic(CHAT, "Elif")

    assert migrated.value.new_chat_id == -1009


async def test_a_late_answer_times_out_though_the_message_was_sent(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.delay_next("sendMessage", 5)

    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "geç kaldı", read_timeout=0.2)

    assert [m["text"] for m in fake.sent_messages()] == ["geç kaldı"]


def test_an_unknown_method_is_answered_not_found(fake: FakeBotApi) -> None:
    response = httpx.post(f"{fake.base_url}{fake.token}/sendTelepathy", timeout=5)

    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found",
    }


def test_a_json_body_is_read_like_a_form(fake: FakeBotApi) -> None:
    # accounts.telegram posts JSON; python-telegram-bot posts forms.
    response = httpx.post(
        f"{fake.base_url}{fake.token}/sendMessage",
        json={"chat_id": CHAT, "text": "json", "disable_notification": True},
        timeout=5,
    )

    assert response.json()["ok"] is True
    assert fake.calls("sendMessage")[0].params == {
        "chat_id": CHAT,
        "text": "json",
        "disable_notification": True,
    }


async def test_a_parameter_the_fake_does_not_implement_is_refused(
    fake: FakeBotApi, bot: Bot
) -> None:
    with pytest.raises(BadRequest, match="(?i)parse_mode: not implemented by the fake"):
        await bot.send_message(CHAT, "<b>kalın</b>", parse_mode="HTML")

    assert fake.sent_messages() == []


# --- The bot and its chat ------------------------------------------------------------


@pytest.mark.parametrize("is_forum", [True, False])
async def test_start_up_sees_the_bot_and_its_group(is_forum: bool) -> None:
    with FakeBotApi(is_forum=is_forum) as fake:
        async with make_bot(fake) as bot:
            me = await bot.get_me()
            chat = await bot.get_chat(CHAT)

    assert (me.id, me.is_bot, me.username) == (BOT_ID, True, BOT_USERNAME)
    assert (chat.type, bool(chat.is_forum)) == ("supergroup", is_forum)


@pytest.mark.parametrize(
    ("status", "words"),
    [("kicked", "bot was kicked from the supergroup chat")]
    + [("left", "bot is not a member of the supergroup chat")],
)
async def test_a_bot_out_of_the_group_is_forbidden_to_send(
    fake: FakeBotApi, bot: Bot, status: str, words: str
) -> None:
    fake.set_bot_member(status)

    with pytest.raises(Forbidden, match=words):
        await bot.send_message(CHAT, "merhaba")
    fake.set_bot_member("administrator")
    await bot.send_message(CHAT, "yine buradayım")


async def test_an_unknown_chat_is_refused_as_chat_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(-100999, "merhaba")


async def test_an_upgraded_group_answers_with_its_new_id() -> None:
    with FakeBotApi(chat_id=-4001, chat_type="group", is_forum=False) as fake:
        fake.migrate_chat(-4001, -1004001)
        async with make_bot(fake) as bot:
            with pytest.raises(ChatMigrated) as migrated:
                await bot.get_chat(-4001)
            await bot.send_message(-1004001, "merhaba")

    assert migrated.value.new_chat_id == -1004001
    assert fake.calls("getChat")[0].response["parameters"] == {
        "migrate_to_chat_id": -1004001
    }


# --- Messages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "message text is empty"), (" \n ", "message text is empty")]
    + [("x" * 4097, "message is too long"), ("🙂" * 2049, "message is too long")],
)
async def test_unsendable_text_is_refused(bot: Bot, text: str, error: str) -> None:
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.send_message(CHAT, text)


async def test_text_of_exactly_4096_utf16_units_is_sent(bot: Bot) -> None:
    message = await bot.send_message(CHAT, "🙂" * 2048)

    assert message.text == "🙂" * 2048


async def test_a_topic_message_replies_to_the_topics_creation_like_telegram(
    bot: Bot,
) -> None:
    topic = await bot.create_forum_topic(CHAT, "Ziyaretçi #2")

    message = await bot.send_message(
        CHAT, "merhaba", message_thread_id=topic.message_thread_id
    )

    assert (message.message_thread_id, message.is_topic_message) == (
        topic.message_thread_id,
        True,
    )
    replied = message.reply_to_message
    assert replied is not None and replied.message_id == topic.message_thread_id
    assert replied.forum_topic_created is not None


async def test_a_reply_to_a_missing_message_is_sent_only_when_allowed(
    bot: Bot,
) -> None:
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(CHAT, "cevap", reply_parameters=ReplyParameters(9999))
    message = await bot.send_message(
        CHAT,
        "cevap",
        reply_parameters=ReplyParameters(9999, allow_sending_without_reply=True),
    )

    assert message.reply_to_message is None


# --- Forum topics --------------------------------------------------------------------


async def test_topics_need_a_forum() -> None:
    with FakeBotApi(is_forum=False) as fake:
        async with make_bot(fake) as bot:
            with pytest.raises(BadRequest, match="(?i)not a forum"):
                await bot.create_forum_topic(CHAT, "Ziyaretçi")


@pytest.mark.parametrize(
    ("name", "error"), [(" ", "TOPIC_TITLE_EMPTY"), ("x" * 129, "TOPIC_TITLE_TOO_LONG")]
)
async def test_a_topic_name_telegram_refuses(bot: Bot, name: str, error: str) -> None:
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.create_forum_topic(CHAT, name)


async def test_a_change_that_is_already_so_is_topic_not_modified(
    fake: FakeBotApi, bot: Bot
) -> None:
    topic = (await bot.create_forum_topic(CHAT, "Elif")).message_thread_id
    await bot.close_forum_topic(CHAT, topic)

    with pytest.raises(BadRequest, match="(?i)topic_not_modified"):
        await bot.close_forum_topic(CHAT, topic)
    with pytest.raises(BadRequest, match="(?i)topic_not_modified"):
        await bot.edit_forum_topic(CHAT, topic, name="Elif")
    await bot.reopen_forum_topic(CHAT, topic)
    await bot.edit_forum_topic(CHAT, topic, name="Elif Ş.")

    assert (fake.topics[topic].closed, fake.topics[topic].name) == (False, "Elif Ş.")


async def test_a_message_to_a_deleted_topic_is_refused_as_thread_not_found(
    bot: Bot,
) -> None:
    topic = await bot.create_forum_topic(CHAT, "Ziyaretçi")
    await bot.delete_forum_topic(CHAT, topic.message_thread_id)

    with pytest.raises(BadRequest, match="(?i)message thread not found"):
        await bot.send_message(CHAT, "hi", message_thread_id=topic.message_thread_id)


async def test_a_closed_topic_takes_the_bot_only_with_the_right_to_manage_topics(
    fake: FakeBotApi, bot: Bot
) -> None:
    topic = (await bot.create_forum_topic(CHAT, "Kapalı")).message_thread_id
    await bot.close_forum_topic(CHAT, topic)
    await bot.send_message(CHAT, "yönetici bot", message_thread_id=topic)
    fake.set_bot_member("administrator", can_manage_topics=False)

    with pytest.raises(BadRequest, match="(?i)topic_closed"):
        await bot.send_message(CHAT, "yetkisiz bot", message_thread_id=topic)


async def test_a_closed_topic_refuses_members_who_are_not_admins(
    fake: FakeBotApi, bot: Bot
) -> None:
    topic = (await bot.create_forum_topic(CHAT, "Elif · #1")).message_thread_id
    await bot.close_forum_topic(CHAT, topic)

    with pytest.raises(TopicClosed):
        fake.operator_text("cevap", user_id=MEMBER, message_thread_id=topic)
    fake.operator_text("cevap", user_id=OPERATOR_USER_ID, message_thread_id=topic)


# --- Files ---------------------------------------------------------------------------


async def test_an_uploaded_file_downloads_as_the_same_bytes(
    fake: FakeBotApi, bot: Bot
) -> None:
    content = bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n"

    message = await bot.send_document(
        CHAT, content, filename="Şükrü belge.pdf", caption="belge"
    )
    assert message.document is not None
    file = await bot.get_file(message.document.file_id)

    assert bytes(await file.download_as_bytearray()) == content
    assert (message.document.file_name, message.document.mime_type) == (
        "Şükrü belge.pdf",
        "application/pdf",
    )
    assert message.caption == "belge"


async def test_an_operators_photo_downloads_through_get_file(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.push_update(fake.operator_photo(b"jpeg bytes", user_id=42, caption="bak"))

    (update,) = await bot.get_updates()

    assert update.message is not None and update.message.caption == "bak"
    file = await update.message.photo[-1].get_file()
    assert bytes(await file.download_as_bytearray()) == b"jpeg bytes"


@pytest.mark.parametrize(
    ("size", "error"), [(20 * 1024 * 1024 + 1, "file is too big"), (None, "invalid")]
)
async def test_get_file_refuses_what_the_bot_may_not_download(
    fake: FakeBotApi, bot: Bot, size: int | None, error: str
) -> None:
    update = fake.operator_document(b"%PDF-1.7", file_size=size, user_id=42)
    file_id = update["message"]["document"]["file_id"] if size else "no-such-file"

    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.get_file(file_id)


async def test_a_file_the_file_server_does_not_find_surfaces_as_invalid_token(
    fake: FakeBotApi, bot: Bot
) -> None:
    update = fake.operator_document(b"%PDF-1.7", user_id=42)
    remote = await bot.get_file(update["message"]["document"]["file_id"])
    fake.fail_next("downloadFile", status=404)

    with pytest.raises(InvalidToken):
        await remote.download_as_bytearray()
    assert bytes(await remote.download_as_bytearray()) == b"%PDF-1.7"


# --- Updates -------------------------------------------------------------------------


async def test_get_updates_confirms_and_drops_updates_below_the_offset(
    fake: FakeBotApi, bot: Bot
) -> None:
    ids = [
        fake.push_update(fake.operator_text(text, user_id=42))
        for text in ("bir", "iki", "üç")
    ]

    everything = await bot.get_updates()
    rest = await bot.get_updates(offset=ids[1])

    assert [u.update_id for u in everything] == ids
    assert [u.update_id for u in rest] == ids[1:]
    assert fake.confirmed_offset == ids[1]


async def test_get_updates_long_polls_until_an_update_is_pushed(
    fake: FakeBotApi, bot: Bot
) -> None:
    polling = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_async(lambda api: api.calls("getUpdates"))

    update_id = fake.push_update(fake.operator_text("merhaba", user_id=42))

    updates = await asyncio.wait_for(polling, timeout=3)
    assert [u.update_id for u in updates] == [update_id]


async def test_a_second_poller_ends_the_waiting_one_with_conflict(
    fake: FakeBotApi, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_async(lambda api: api.calls("getUpdates"))

    async with make_bot(fake) as second_bot:
        second = asyncio.create_task(second_bot.get_updates(timeout=1))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, timeout=3)
        assert await second == ()


async def test_allowed_updates_filters_the_kinds_delivered(
    fake: FakeBotApi, bot: Bot
) -> None:
    sent = fake.operator_text("ilk", user_id=42)
    fake.push_update(sent)
    fake.push_update(fake.operator_edit(sent["message"]["message_id"], "düzeltme"))

    updates = await bot.get_updates(allowed_updates=["edited_message"])

    assert [u.edited_message.text for u in updates if u.edited_message] == ["düzeltme"]
    assert len(updates) == 1


async def test_a_raw_update_is_delivered_again_with_its_id(
    fake: FakeBotApi, bot: Bot
) -> None:
    update = fake.operator_text("iki kez", user_id=42)
    update_id = fake.push_update(update)
    fake.push_raw_update({**update, "update_id": update_id})

    updates = await bot.get_updates()

    assert [u.update_id for u in updates] == [update_id, update_id]
