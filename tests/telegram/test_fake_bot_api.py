"""The fake Bot API behaves like Telegram for python-telegram-bot's real ``Bot``."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import Bot, ReplyParameters
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from tests.telegram.fake_bot_api import (
    BOT_ID,
    BOT_USERNAME,
    OPERATOR_CHAT_ID,
    FakeBotApi,
    parse_html,
    run_fake_bot_api,
)
from tests.telegram.fake_flood import FloodRules

CHAT = OPERATOR_CHAT_ID
# PTB 22 warns that retry_after/duration will become timedelta; _seconds reads both.
pytestmark = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
def fake_bot_api() -> Iterator[FakeBotApi]:
    yield from run_fake_bot_api()


def make_bot(fake: FakeBotApi, token: str | None = None) -> Bot:
    return Bot(
        token or fake.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
    )


@pytest.fixture
async def bot(fake_bot_api: FakeBotApi) -> AsyncIterator[Bot]:
    async with make_bot(fake_bot_api) as bot:
        yield bot


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else value


# --- Identity and errors ---------------------------------------------------------


async def test_get_me_returns_the_test_bot(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.username) == (BOT_ID, True, BOT_USERNAME)
    assert me.can_join_groups is True


async def test_get_chat_describes_the_forum_supergroup(bot: Bot) -> None:
    chat = await bot.get_chat(CHAT)

    assert (chat.type, chat.is_forum, chat.title) == ("supergroup", True, "Support")


async def test_a_non_forum_group_can_be_configured() -> None:
    with FakeBotApi(is_forum=False, chat_title="Destek") as fake:
        async with make_bot(fake) as bot:
            chat = await bot.get_chat(CHAT)

    assert (chat.is_forum, chat.title) == (None, "Destek")


async def test_the_bot_is_an_administrator_that_manages_topics(bot: Bot) -> None:
    member = await bot.get_chat_member(CHAT, BOT_ID)

    assert member.status == "administrator"
    assert member.can_manage_topics is True  # type: ignore[attr-defined]


async def test_another_token_is_refused_as_invalid_token(
    fake_bot_api: FakeBotApi,
) -> None:
    other = make_bot(fake_bot_api, token="999:not-the-fake-token")
    try:
        with pytest.raises(InvalidToken, match="rejected"):
            await other.initialize()
    finally:
        await other.shutdown()


async def test_queued_429_surfaces_as_retry_after(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.fail_next("sendMessage", status=429, retry_after=3)

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(CHAT, "merhaba")

    assert _seconds(raised.value.retry_after) == 3
    assert fake_bot_api.sent_messages() == []
    assert fake_bot_api.calls("sendMessage")[0].response["parameters"] == {
        "retry_after": 3
    }


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_surface_as_network_error(
    fake_bot_api: FakeBotApi, bot: Bot, status: int
) -> None:
    fake_bot_api.fail_next("sendMessage", status=status)

    with pytest.raises(NetworkError) as raised:
        await bot.send_message(CHAT, "merhaba")

    assert type(raised.value) is NetworkError  # not BadRequest or TimedOut


async def test_a_proxy_html_page_surfaces_as_network_error(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.fail_next("sendMessage", status=502, body=b"<html>nginx</html>")

    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(CHAT, "merhaba")


async def test_queued_400_surfaces_as_bad_request_with_its_description(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.fail_next(
        "createForumTopic", status=400, description="Bad Request: CHAT_NOT_MODIFIED"
    )

    with pytest.raises(BadRequest, match="(?i)chat_not_modified"):
        await bot.create_forum_topic(CHAT, "Ziyaretçi")


async def test_queued_failures_are_used_up_in_order(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.fail_next("sendMessage", status=500, times=2)

    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(CHAT, "deneme")
    await bot.send_message(CHAT, "deneme")

    assert [call.status for call in fake_bot_api.calls("sendMessage")] == [
        500,
        500,
        200,
    ]


async def test_rate_limit_answers_retry_after_once_exceeded(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.set_rate_limit("sendMessage", per_seconds=60, max_calls=2)
    await bot.send_message(CHAT, "bir")
    await bot.send_message(CHAT, "iki")

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(CHAT, "üç")

    assert 1 <= _seconds(raised.value.retry_after) <= 60
    assert [m["text"] for m in fake_bot_api.sent_messages()] == ["bir", "iki"]


async def test_a_slow_answer_times_out_though_the_message_was_sent(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.delay_next("sendMessage", 5)

    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "geç kaldı", read_timeout=0.2)

    assert [m["text"] for m in fake_bot_api.sent_messages()] == ["geç kaldı"]


async def test_a_kicked_bot_is_forbidden_to_send(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.set_bot_member("kicked")

    with pytest.raises(Forbidden, match="kicked"):
        await bot.send_message(CHAT, "merhaba")


async def test_unknown_chat_is_refused_as_chat_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(-100999, "merhaba")


# --- Sending -------------------------------------------------------------------


async def test_send_message_in_a_topic_returns_a_topic_message(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    topic = await bot.create_forum_topic(CHAT, "Ziyaretçi #1")

    message = await bot.send_message(
        CHAT, "merhaba", message_thread_id=topic.message_thread_id
    )

    assert message.chat.id == CHAT
    assert message.from_user is not None and message.from_user.id == BOT_ID
    assert message.message_thread_id == topic.message_thread_id
    assert message.is_topic_message is True
    (stored,) = fake_bot_api.sent_messages(thread_id=topic.message_thread_id)
    assert stored["text"] == "merhaba"


async def test_a_topic_message_replies_to_the_topics_creation_like_telegram(
    bot: Bot,
) -> None:
    topic = await bot.create_forum_topic(CHAT, "Ziyaretçi #2")

    message = await bot.send_message(
        CHAT, "merhaba", message_thread_id=topic.message_thread_id
    )

    replied = message.reply_to_message
    assert replied is not None and replied.message_id == topic.message_thread_id
    assert replied.forum_topic_created is not None
    assert replied.forum_topic_created.name == "Ziyaretçi #2"


async def test_message_ids_count_up_per_chat(bot: Bot) -> None:
    first = await bot.send_message(CHAT, "bir")
    second = await bot.send_message(CHAT, "iki")

    assert second.message_id == first.message_id + 1


async def test_a_burst_of_concurrent_sends_all_get_distinct_ids() -> None:
    with FakeBotApi(flood=FloodRules.off()) as fake:
        async with make_bot(fake) as bot:
            messages = await asyncio.gather(
                *(bot.send_message(CHAT, f"mesaj {n}") for n in range(100))
            )

    assert len({message.message_id for message in messages}) == 100


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "message text is empty"), (" \n ", "message text is empty")]
    + [("x" * 4097, "message is too long")],
)
async def test_unsendable_text_is_refused(bot: Bot, text: str, error: str) -> None:
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.send_message(CHAT, text)


async def test_text_of_exactly_4096_characters_is_sent(bot: Bot) -> None:
    message = await bot.send_message(CHAT, "x" * 4096)

    assert message.text == "x" * 4096


async def test_html_is_stored_as_plain_text_with_entities(bot: Bot) -> None:
    message = await bot.send_message(
        CHAT, "<b>Ayşe</b> &amp; 👋 <i>selam</i>", parse_mode="HTML"
    )

    assert message.text == "Ayşe & 👋 selam"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 4),
        ("italic", 10, 5),  # 👋 is two UTF-16 code units
    ]


@pytest.mark.parametrize(
    "markup",
    ["<b>kalın", "<b>a</i>", "</b>", "<div>x</div>", "<span>x</span>", "a <b"],
)
async def test_malformed_html_is_refused_as_unparseable_entities(
    bot: Bot, markup: str
) -> None:
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(CHAT, markup, parse_mode="HTML")


def test_html_parser_keeps_a_bare_ampersand_and_links() -> None:
    text, entities = parse_html(
        'Tom & Jerry <a href="https://x.test/?a=1&amp;b=2">l</a>'
    )

    assert text == "Tom & Jerry l"
    assert entities == [
        {
            "type": "text_link",
            "url": "https://x.test/?a=1&b=2",
            "offset": 12,
            "length": 1,
        }
    ]


async def test_reply_to_a_known_message_carries_it(bot: Bot) -> None:
    original = await bot.send_message(CHAT, "soru")

    reply = await bot.send_message(
        CHAT, "cevap", reply_parameters=ReplyParameters(original.message_id)
    )

    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "soru"


async def test_reply_to_a_missing_message_is_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(CHAT, "cevap", reply_parameters=ReplyParameters(9999))


async def test_reply_to_a_missing_message_is_sent_when_allowed(bot: Bot) -> None:
    message = await bot.send_message(
        CHAT,
        "cevap",
        reply_parameters=ReplyParameters(9999, allow_sending_without_reply=True),
    )

    assert message.reply_to_message is None


async def test_edit_message_text_changes_the_sent_message(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    sent = await bot.send_message(CHAT, "ilk")

    edited = await bot.edit_message_text("son", CHAT, sent.message_id)

    assert edited.edit_date is not None  # type: ignore[union-attr]
    assert [m["text"] for m in fake_bot_api.sent_messages()] == ["son"]


async def test_edit_with_the_same_text_is_refused_as_not_modified(bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "aynı")

    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("aynı", CHAT, sent.message_id)


async def test_deleted_message_leaves_sent_messages(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    sent = await bot.send_message(CHAT, "sil beni")

    assert await bot.delete_message(CHAT, sent.message_id) is True

    assert fake_bot_api.sent_messages() == []
    assert fake_bot_api.deleted_messages == [(CHAT, sent.message_id)]


async def test_reaction_is_recorded(fake_bot_api: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "gördüm")

    assert await bot.set_message_reaction(CHAT, sent.message_id, "👀") is True

    assert fake_bot_api.reactions == [
        (CHAT, sent.message_id, [{"type": "emoji", "emoji": "👀"}])
    ]


async def test_chat_action_is_recorded_with_its_topic(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    topic = await bot.create_forum_topic(CHAT, "Ziyaretçi")

    await bot.send_chat_action(
        CHAT, "typing", message_thread_id=topic.message_thread_id
    )

    assert fake_bot_api.chat_actions == [(CHAT, "typing", topic.message_thread_id)]


async def test_my_commands_round_trip(bot: Bot) -> None:
    await bot.set_my_commands([("close", "Konuşmayı kapat")])

    commands = await bot.get_my_commands()

    assert [(c.command, c.description) for c in commands] == [
        ("close", "Konuşmayı kapat")
    ]


# --- Forum topics --------------------------------------------------------------


async def test_created_topic_is_listed(fake_bot_api: FakeBotApi, bot: Bot) -> None:
    topic = await bot.create_forum_topic(CHAT, "Ziyaretçi #7")

    listed = fake_bot_api.topics[topic.message_thread_id]
    assert (listed.name, listed.closed, listed.deleted) == (
        "Ziyaretçi #7",
        False,
        False,
    )
    assert topic.icon_color == listed.icon_color


async def test_close_and_reopen_toggle_the_topic(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    topic = await bot.create_forum_topic(CHAT, "Ziyaretçi")

    await bot.close_forum_topic(CHAT, topic.message_thread_id)
    closed = fake_bot_api.topics[topic.message_thread_id].closed
    await bot.reopen_forum_topic(CHAT, topic.message_thread_id)

    assert closed is True
    assert fake_bot_api.topics[topic.message_thread_id].closed is False


async def test_message_to_a_deleted_topic_is_refused_as_thread_not_found(
    bot: Bot,
) -> None:
    topic = await bot.create_forum_topic(CHAT, "Ziyaretçi")
    await bot.delete_forum_topic(CHAT, topic.message_thread_id)

    with pytest.raises(BadRequest, match="(?i)message thread not found"):
        await bot.send_message(
            CHAT, "merhaba", message_thread_id=topic.message_thread_id
        )


async def test_closed_topic_refuses_a_bot_without_topic_rights(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    topic = fake_bot_api.add_topic("Kapalı")
    fake_bot_api.service_message(
        "forum_topic_closed", message_thread_id=topic.message_thread_id
    )
    fake_bot_api.set_bot_member("administrator", can_manage_topics=False)

    with pytest.raises(BadRequest, match="(?i)topic_closed"):
        await bot.send_message(
            CHAT, "merhaba", message_thread_id=topic.message_thread_id
        )


async def test_topics_need_a_forum() -> None:
    with FakeBotApi(is_forum=False) as fake:
        async with make_bot(fake) as plain_bot:
            with pytest.raises(BadRequest, match="(?i)not a forum"):
                await plain_bot.create_forum_topic(CHAT, "Ziyaretçi")


# --- Files ---------------------------------------------------------------------


async def test_uploaded_photo_downloads_as_the_same_bytes(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    content = bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n"

    message = await bot.send_photo(CHAT, content, caption="foto")
    file = await bot.get_file(message.photo[-1].file_id)

    assert bytes(await file.download_as_bytearray()) == content
    assert message.caption == "foto"
    assert fake_bot_api.calls("sendPhoto")[0].files["photo"].content == content


async def test_uploaded_document_keeps_its_file_name(bot: Bot) -> None:
    message = await bot.send_document(CHAT, b"%PDF", filename="Şükrü belge.pdf")

    assert message.document is not None
    assert message.document.file_name == "Şükrü belge.pdf"
    assert message.document.mime_type == "application/pdf"


async def test_uploaded_voice_keeps_its_duration(bot: Bot) -> None:
    message = await bot.send_voice(CHAT, b"OggS", duration=7)

    assert message.voice is not None
    assert _seconds(message.voice.duration) == 7
    assert message.voice.mime_type == "audio/ogg"


async def test_get_file_over_the_download_limit_is_refused_as_too_big(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    file_id = fake_bot_api.add_file(b"big", file_size=20 * 1024 * 1024 + 1)

    with pytest.raises(BadRequest, match="(?i)file is too big"):
        await bot.get_file(file_id)


async def test_unknown_file_id_is_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await bot.get_file("no-such-file")


# --- Updates -------------------------------------------------------------------


async def test_get_updates_confirms_and_drops_updates_below_the_offset(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    ids = [
        fake_bot_api.push_update(fake_bot_api.operator_text(text, user_id=42))
        for text in ("bir", "iki", "üç")
    ]

    everything = await bot.get_updates()
    rest = await bot.get_updates(offset=ids[1])

    assert [u.update_id for u in everything] == ids
    assert [u.update_id for u in rest] == ids[1:]
    assert fake_bot_api.confirmed_offset == ids[1]
    assert [u["update_id"] for u in fake_bot_api.pending_updates] == ids[1:]


async def test_get_updates_returns_at_most_limit(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    for text in ("bir", "iki", "üç"):
        fake_bot_api.push_update(fake_bot_api.operator_text(text, user_id=42))

    updates = await bot.get_updates(limit=2)

    assert [u.message.text for u in updates if u.message] == ["bir", "iki"]


async def test_get_updates_long_polls_until_an_update_is_pushed(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    polling = asyncio.create_task(bot.get_updates(timeout=5))
    await fake_bot_api.wait_for_async(lambda fake: fake.calls("getUpdates"))

    update_id = fake_bot_api.push_update(
        fake_bot_api.operator_text("merhaba", user_id=42)
    )

    updates = await asyncio.wait_for(polling, timeout=3)
    assert [u.update_id for u in updates] == [update_id]


async def test_a_second_poller_ends_the_waiting_one_with_conflict(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake_bot_api.wait_for_async(lambda fake: fake.calls("getUpdates"))

    async with make_bot(fake_bot_api) as second_bot:
        second = asyncio.create_task(second_bot.get_updates(timeout=1))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, timeout=3)
        assert await second == ()


async def test_allowed_updates_filters_the_kinds_delivered(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    sent = fake_bot_api.operator_text("ilk", user_id=42)
    fake_bot_api.push_update(sent)
    fake_bot_api.push_update(
        fake_bot_api.operator_edit(sent["message"]["message_id"], "düzeltilmiş")
    )

    updates = await bot.get_updates(allowed_updates=["edited_message"])

    assert [u.edited_message.text for u in updates if u.edited_message] == [
        "düzeltilmiş"
    ]
    assert len(updates) == 1


async def test_a_raw_update_is_delivered_again_with_its_id(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    update = fake_bot_api.operator_text("iki kez", user_id=42)
    update_id = fake_bot_api.push_update(update)
    fake_bot_api.push_raw_update({**update, "update_id": update_id})

    updates = await bot.get_updates()

    assert [u.update_id for u in updates] == [update_id, update_id]


async def test_operator_text_in_a_topic_arrives_as_a_topic_message(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    topic = await bot.create_forum_topic(CHAT, "Ziyaretçi")
    fake_bot_api.push_update(
        fake_bot_api.operator_text(
            "merhaba", user_id=42, message_thread_id=topic.message_thread_id
        )
    )

    (update,) = await bot.get_updates()

    message = update.message
    assert message is not None and message.from_user is not None
    assert (message.from_user.id, message.from_user.first_name) == (42, "Ayşe")
    assert message.is_topic_message is True
    assert message.message_thread_id == topic.message_thread_id


async def test_operator_reply_carries_the_bots_message(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    sent = await bot.send_message(CHAT, "Ziyaretçi: yardım lütfen")
    fake_bot_api.push_update(
        fake_bot_api.operator_text(
            "hemen", user_id=42, reply_to_message_id=sent.message_id
        )
    )

    (update,) = await bot.get_updates()

    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.reply_to_message.message_id == sent.message_id
    assert update.message.reply_to_message.from_user.id == BOT_ID  # type: ignore[union-attr]


async def test_command_carries_a_bot_command_entity(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.push_update(fake_bot_api.command("/close teşekkürler", user_id=42))

    (update,) = await bot.get_updates()

    assert update.message is not None
    assert update.message.parse_entities(["bot_command"]).popitem()[1] == "/close"


async def test_private_start_carries_the_deep_link_payload(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.push_update(fake_bot_api.private_start(42, "link-abc123"))

    (update,) = await bot.get_updates()

    message = update.message
    assert message is not None
    assert (message.chat.type, message.chat.id) == ("private", 42)
    assert message.text == "/start link-abc123"
    assert await bot.send_message(42, "Bağlandı") is not None


async def test_operator_photo_downloads_through_get_file(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.push_update(
        fake_bot_api.operator_photo(b"jpeg bytes", user_id=42, caption="bak")
    )

    (update,) = await bot.get_updates()

    assert update.message is not None and update.message.caption == "bak"
    file = await update.message.photo[-1].get_file()
    assert bytes(await file.download_as_bytearray()) == b"jpeg bytes"


async def test_forum_topic_created_service_message_adds_a_topic(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    fake_bot_api.push_update(
        fake_bot_api.service_message("forum_topic_created", name="Elle açılan")
    )

    (update,) = await bot.get_updates()

    message = update.message
    assert message is not None and message.forum_topic_created is not None
    assert fake_bot_api.topics[message.message_thread_id].name == "Elle açılan"  # type: ignore[index]


# --- Raw HTTP and synchronisation ----------------------------------------------


def test_json_body_and_query_string_are_accepted(fake_bot_api: FakeBotApi) -> None:
    response = httpx.post(
        f"{fake_bot_api.base_url}{fake_bot_api.token}/sendMessage",
        params={"chat_id": str(CHAT)},
        json={"text": "json", "disable_notification": True},
        timeout=5,
    )

    assert response.json()["ok"] is True
    (call,) = fake_bot_api.calls("sendMessage")
    assert call.params == {
        "chat_id": CHAT,
        "text": "json",
        "disable_notification": True,
    }


def test_method_names_are_case_insensitive(fake_bot_api: FakeBotApi) -> None:
    response = httpx.get(
        f"{fake_bot_api.base_url}{fake_bot_api.token}/GETME", timeout=5
    )

    assert response.json()["result"]["id"] == BOT_ID


def test_malformed_json_is_answered_with_a_400(fake_bot_api: FakeBotApi) -> None:
    response = httpx.post(
        f"{fake_bot_api.base_url}{fake_bot_api.token}/sendMessage",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["ok"] is False


def test_unknown_method_is_answered_not_found(fake_bot_api: FakeBotApi) -> None:
    response = httpx.post(
        f"{fake_bot_api.base_url}{fake_bot_api.token}/sendTelepathy", timeout=5
    )

    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found",
    }


def test_wait_for_times_out_listing_the_recent_calls(fake_bot_api: FakeBotApi) -> None:
    httpx.get(f"{fake_bot_api.base_url}{fake_bot_api.token}/getMe", timeout=5)

    with pytest.raises(AssertionError, match="getMe -> 200"):
        fake_bot_api.wait_for(lambda fake: fake.sent_messages(), timeout=0.1)


async def test_stop_ends_a_waiting_long_poll() -> None:
    fake = FakeBotApi().start()
    try:
        async with make_bot(fake) as bot:
            polling = asyncio.create_task(bot.get_updates(timeout=30))
            await fake.wait_for_async(lambda api: api.calls("getUpdates"))
            await asyncio.to_thread(fake.stop)

            updates = await asyncio.wait_for(polling, timeout=5)
    finally:
        fake.stop()

    assert updates == ()
