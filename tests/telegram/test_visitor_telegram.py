"""A visitor continues in Telegram (22.4) and sees ticks from a Telegram-only team
(22.5): the bridge in this process on a virtual clock, the fake Bot API, the
visitor's real socket. The link comes from the chat page's call, the bot asks for
the phone number, takes only the sender's own contact, carries what the visitor
writes into the conversation, sends operators' replies there only while the page
is closed, and ``/stop`` ends it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from accounts import services as account_services
from chat import services
from chat.models import Message, OutboxEntry, Thread, Visitor
from telegram_bridge import visitor_services
from telegram_bridge.bot import Bridge
from telegram_bridge.info import info_text
from telegram_bridge.models import VisitorChat
from tests.telegram.clock import VirtualClock
from tests.telegram.conftest import CHAT_ID, api_url
from tests.telegram.e2e import operator_message, visitor_says
from tests.telegram.fakebot import BOT_USERNAME, FakeBotApi
from tests.telegram.harness import deliver_all, png_bytes, time_passes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

VISITOR_TG = 6660001
SOMEONE_ELSE = 6660002
OPERATOR_TG = 5550001
PHONE = "+90 555 111 22 33"
CHANNEL = "telegram_visitor"


@pytest.fixture
def visitor_chats(settings: Any, bot_api: FakeBotApi) -> FakeBotApi:
    """The web side configured for the fake bot, with "Continue in Telegram" on."""
    settings.TELEGRAM_BOT_TOKEN = bot_api.token
    settings.TELEGRAM_CHAT_ID = str(CHAT_ID)
    settings.TELEGRAM_API_URL = api_url(bot_api)
    settings.TELEGRAM_ENABLED = True
    settings.TELEGRAM_VISITOR_CHATS = True
    settings.SOHBET_REPLY_CHANNELS = [CHANNEL]
    return bot_api


@sync_to_async
def link_from_page(cookie: str) -> dict[str, Any]:
    client = Client()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
    response = client.post("/telegram/link/", content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def replies_to(api: FakeBotApi, user_id: int) -> list[str]:
    return [m.get("text") or "" for m in api.sent_messages(chat_id=user_id)]


@database_sync_to_async
def visitor_of(thread_id: int) -> Visitor:
    return Thread.objects.select_related("visitor").get(pk=thread_id).visitor


async def linked_visitor(
    api: FakeBotApi, bridge: Bridge, cookie: str, *, language_code: str = "tr"
) -> None:
    """The visitor of a browser session opens their link in Telegram and shares
    their own number."""
    token = await database_sync_to_async(visitor_services.issue_link_token)(
        SessionStore(session_key=cookie)
    )
    api.push_update(api.private_start(VISITOR_TG, token))
    api.push_update(
        api.private_contact(
            VISITOR_TG,
            phone=PHONE,
            contact_user_id=VISITOR_TG,
            language_code=language_code,
        )
    )
    await bridge.poll_once()
    assert api.keyboard(VISITOR_TG) is None


@database_sync_to_async
def operator_replies(thread_id: int, *bodies: str) -> None:
    for body in bodies:
        services.post_message(
            thread_id=thread_id,
            client_id=uuid.uuid4(),
            body=body,
            author=Message.Author.OPERATOR,
            author_name="Ayşe",
        )


async def telegram_message(visitor: Any) -> dict[str, Any]:
    """The next message frame that came from Telegram (the socket's own echoes
    come first)."""
    while True:
        frame = await visitor.receive_type("message", timeout=10)
        if frame["message"]["source"] == "telegram":
            return frame


async def test_continue_in_telegram_from_the_link_to_stop(
    visitor_chats: FakeBotApi,
    bridge: Bridge,
    clock: VirtualClock,
    connect_visitor: Any,
    connect_operator: Any,
) -> None:
    api = visitor_chats
    visitor = await connect_visitor()
    await visitor_says(visitor, "Merhaba")
    thread_id = visitor.hello["thread"]["id"]

    link = await link_from_page(visitor.cookie)
    prefix = f"https://t.me/{BOT_USERNAME}?start="
    assert link["url"].startswith(prefix) and link["expires_in"] == 600
    token = link["url"].removeprefix(prefix)

    api.push_update(api.private_start(VISITOR_TG, token))
    await bridge.poll_once()
    keyboard = api.keyboard(VISITOR_TG)
    assert keyboard is not None
    assert keyboard["keyboard"][0][0]["request_contact"] is True
    assert "telefon" in replies_to(api, VISITOR_TG)[-1]  # Turkish: language_code tr

    # Someone else's contact is refused: nothing is verified.
    api.push_update(
        api.private_contact(
            VISITOR_TG, phone="+90 500 000 00 00", contact_user_id=SOMEONE_ELSE
        )
    )
    await bridge.poll_once()
    assert (await visitor_of(thread_id)).phone == ""
    assert api.keyboard(VISITOR_TG) is not None  # still asked for

    # The link works once: someone who got hold of it is refused.
    api.push_update(api.private_start(SOMEONE_ELSE, token))
    await bridge.poll_once()
    assert "kullanıldı" in replies_to(api, SOMEONE_ELSE)[-1]

    api.push_update(
        api.private_contact(VISITOR_TG, phone=PHONE, contact_user_id=VISITOR_TG)
    )
    await bridge.poll_once()
    assert api.keyboard(VISITOR_TG) is None  # the button is taken away
    person = await visitor_of(thread_id)
    assert (person.phone, person.phone_verified_at is not None) == (
        "+905551112233",
        True,
    )
    thread = await database_sync_to_async(Thread.objects.select_related("visitor").get)(
        pk=thread_id
    )
    assert "+905551112233 (phone verified)" in await sync_to_async(info_text)(thread)
    operator = await connect_operator()
    await operator.send(type="visitor.info", thread=thread_id)
    assert (await operator.receive_type("visitor"))["visitor"]["phone"] == (
        "+905551112233"
    )

    # What the visitor writes in Telegram joins the conversation, as theirs.
    api.push_update(api.private_text(VISITOR_TG, "Kargom nerede?"))
    api.push_update(api.private_photo(VISITOR_TG, png_bytes(), caption="fatura"))
    await bridge.poll_once()
    frames = [await telegram_message(visitor) for _ in range(2)]
    assert [
        (f["message"]["author"], f["message"]["source"], f["message"]["body"])
        for f in frames
    ] == [("visitor", "telegram", "Kargom nerede?"), ("visitor", "telegram", "fatura")]
    assert frames[1]["message"]["attachment"]["kind"] == "image"
    # ...and reaches the operators' topic like any visitor message.
    await deliver_all(bridge, clock)
    group = [
        m.get("text") or m.get("caption") or ""
        for m in api.sent_messages(chat_id=CHAT_ID)
    ]
    assert any("Kargom nerede?" in text for text in group)
    assert any("fatura" in text for text in group)

    api.push_update(api.command("/stop", user_id=VISITOR_TG, chat_id=VISITOR_TG))
    await bridge.poll_once()
    assert "artık" in replies_to(api, VISITOR_TG)[-1]
    assert not await database_sync_to_async(VisitorChat.objects.exists)()
    # After /stop, a message there goes nowhere.
    api.push_update(api.private_text(VISITOR_TG, "hâlâ burada mısınız?"))
    await bridge.poll_once()
    assert not await database_sync_to_async(
        Message.objects.filter(body="hâlâ burada mısınız?").exists
    )()


async def test_stop_answers_in_english_for_an_english_telegram(
    visitor_chats: FakeBotApi, bridge: Bridge, connect_visitor: Any
) -> None:
    api = visitor_chats
    visitor = await connect_visitor()
    await visitor_says(visitor, "Hello")
    await linked_visitor(api, bridge, visitor.cookie)
    update = api.private_text(VISITOR_TG, "/stop", language_code="en")
    update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 5}]
    api.push_update(update)
    await bridge.poll_once()
    assert replies_to(api, VISITOR_TG)[-1].startswith("Done: this chat no longer")


async def test_replies_reach_telegram_only_while_the_page_is_closed(
    visitor_chats: FakeBotApi,
    bridge: Bridge,
    clock: VirtualClock,
    connect_visitor: Any,
) -> None:
    api = visitor_chats
    visitor = await connect_visitor()
    await visitor_says(visitor, "Sipariş 42?")
    thread_id = visitor.hello["thread"]["id"]
    await linked_visitor(api, bridge, visitor.cookie)
    said = len(replies_to(api, VISITOR_TG))  # the bot's own lines while linking

    # On the page: nothing goes to Telegram (looked at again later).
    await operator_replies(thread_id, "Bakıyorum")
    reply = await operator_message(visitor)
    assert await bridge.visitors.deliver_next()
    assert not await bridge.visitors.deliver_next()
    assert replies_to(api, VISITOR_TG)[said:] == []

    # The visitor reads it, then closes the page; a second reply comes.
    await visitor.send(type="read", thread=thread_id, up_to=reply["id"])
    await visitor.receive_type("read")
    await visitor.close()
    await operator_replies(thread_id, "Kargoya verildi, yarın sizde.")
    await time_passes(clock, 30)
    for _step in range(5):
        if not await bridge.visitors.deliver_next():
            break
    assert replies_to(api, VISITOR_TG)[said:] == ["Ayşe: Kargoya verildi, yarın sizde."]


async def test_ticks_from_a_telegram_only_team(
    visitor_chats: FakeBotApi,
    bridge: Bridge,
    clock: VirtualClock,
    connect_visitor: Any,
    make_operator: Any,
) -> None:
    api = visitor_chats
    user = await make_operator("ayse")
    token = await database_sync_to_async(account_services.issue_link_token)(user=user)
    await database_sync_to_async(account_services.link_telegram)(
        token=token, telegram_user_id=OPERATOR_TG, telegram_username="ayse_tg"
    )
    visitor = await connect_visitor()
    thread_id = visitor.hello["thread"]["id"]
    [first] = await visitor_says(visitor, "Açık mısınız?")

    # Delivered: the bridge posted it in the operators' group.
    await deliver_all(bridge, clock)
    delivered = await visitor.receive_type("delivered")
    assert (delivered["thread"], delivered["up_to"]) == (thread_id, first)

    # Read: an operator reacted to it there.
    posted = next(
        m
        for m in api.sent_messages(chat_id=CHAT_ID)
        if "Açık mısınız?" in m.get("text", "")
    )
    api.push_update(api.reaction(posted["message_id"], "👍", user_id=OPERATOR_TG))
    await bridge.poll_once()
    read = await visitor.receive_type("read")
    assert (read["by"], read["up_to"]) == ("operator", first)

    # Read: an operator answered in the topic.
    [second] = await visitor_says(visitor, "Kaçta kapanıyorsunuz?")
    await deliver_all(bridge, clock)
    assert (await visitor.receive_type("delivered"))["up_to"] == second
    api.push_update(
        api.operator_text(
            "18:00'de",
            user_id=OPERATOR_TG,
            message_thread_id=posted["message_thread_id"],
        )
    )
    await bridge.poll_once()
    read = await visitor.receive_type("read")
    assert read["by"] == "operator" and read["up_to"] > second


async def test_the_link_call_refuses_what_it_must(
    visitor_chats: FakeBotApi, settings: Any, connect_visitor: Any
) -> None:
    visitor = await connect_visitor()

    @sync_to_async
    def post(path: str) -> Any:
        client = Client()
        client.cookies[django_settings.SESSION_COOKIE_NAME] = visitor.cookie
        return client.post(path, content_type="application/json")

    # The widget's call takes its frame's token, never the cookie.
    assert (await post("/widget/telegram/link/")).status_code == 401
    # Ten links an hour per visitor; the earlier ones stop working.
    for _ in range(10):
        assert (await post("/telegram/link/")).status_code == 200
    refused = await post("/telegram/link/")
    assert refused.status_code == 429
    assert "an hour" in refused.json()["error"]["detail"]
    settings.TELEGRAM_VISITOR_CHATS = False
    assert (await post("/telegram/link/")).status_code == 404


@database_sync_to_async
def reply_rows() -> list[tuple[str, int]]:
    return list(
        OutboxEntry.objects.filter(channel=CHANNEL)
        .order_by("pk")
        .values_list("status", "attempts")
    )


async def test_a_reply_to_telegram_survives_errors_and_a_blocked_bot_unlinks(
    visitor_chats: FakeBotApi,
    bridge: Bridge,
    clock: VirtualClock,
    connect_visitor: Any,
) -> None:
    api = visitor_chats
    visitor = await connect_visitor()
    await visitor_says(visitor, "Fatura?")
    thread_id = visitor.hello["thread"]["id"]
    await linked_visitor(api, bridge, visitor.cookie)
    await visitor.close()

    # Telegram fails once: tried again later, then delivered, once.
    api.fail_next("sendMessage", status=502)
    await operator_replies(thread_id, "Gönderdik.")
    assert await bridge.visitors.deliver_next()
    assert await reply_rows() == [("pending", 1)]
    await time_passes(clock, 310)
    assert await bridge.visitors.deliver_next()
    assert await reply_rows() == [("done", 1)]
    assert replies_to(api, VISITOR_TG)[-1] == "Ayşe: Gönderdik."

    # The visitor blocked the bot: the chat is unlinked, nothing else goes there.
    api.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
    )
    await operator_replies(thread_id, "Başka bir şey?")
    assert await bridge.visitors.deliver_next()
    assert not await database_sync_to_async(VisitorChat.objects.exists)()
    await operator_replies(thread_id, "Merhaba?")
    while await bridge.visitors.deliver_next():
        pass
    assert [status for status, _ in await reply_rows()] == ["done", "skipped"]
    assert replies_to(api, VISITOR_TG)[-1] == "Ayşe: Gönderdik."


async def test_a_visitor_writing_too_fast_in_telegram_is_held_back(
    visitor_chats: FakeBotApi,
    bridge: Bridge,
    connect_visitor: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = visitor_chats
    monkeypatch.setattr("telegram_bridge.visitor_handlers.PER_MINUTE", 2)
    visitor = await connect_visitor()
    await visitor_says(visitor, "Merhaba")
    await linked_visitor(api, bridge, visitor.cookie)
    for body in ("bir", "iki", "üç", "dört"):
        api.push_update(api.private_text(VISITOR_TG, body))
    await bridge.poll_once()
    stored = await database_sync_to_async(
        lambda: list(
            Message.objects.filter(source="telegram").values_list("body", flat=True)
        )
    )()
    assert stored == ["bir", "iki"]
    too_fast = [t for t in replies_to(api, VISITOR_TG) if "hızlı" in t]
    assert len(too_fast) == 1  # said once, not per message
