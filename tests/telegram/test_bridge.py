"""The bridge end to end: web sockets <-> `manage.py runtelegram` <-> fake Bot API."""

from __future__ import annotations

import io
import json
import urllib.request
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from chat.models import Message, OutboxEntry, Thread
from tests.telegram.conftest import CHAT_ID
from tests.telegram.e2e import (
    BRIDGE_WAIT,
    OPERATOR_TG_ID,
    eventually,
    link_operator,
    new_id,
    open_topic,
    operator_message,
    texts_in_chat,
    visitor_says,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_redis]


async def test_visitor_message_appears_in_its_own_topic(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    start_bridge()
    visitor = await connect_visitor()
    await visitor.send(type="visitor.update", name="Elif")
    await visitor_says(visitor, "Merhaba, kargo ne zaman gelir?")
    sent = await texts_in_chat(api, "Merhaba, kargo ne zaman gelir?")
    message = next(m for m in sent if m["text"] == "Merhaba, kargo ne zaman gelir?")
    topic = api.topics[message["message_thread_id"]]
    assert topic.name == f"Elif · #{visitor.hello['thread']['id']}"


async def test_operator_reply_in_telegram_reaches_the_visitor(
    operator_bridge, connect_visitor
):
    api = operator_bridge
    visitor = await connect_visitor()
    await visitor_says(visitor, "Is anyone there?")
    sent = await texts_in_chat(api, "Is anyone there?")
    topic_id = sent[-1]["message_thread_id"]
    api.push_update(
        api.operator_text(
            "Yes! How can I help?", user_id=OPERATOR_TG_ID, message_thread_id=topic_id
        )
    )
    reply = await operator_message(visitor)
    assert (reply["author"], reply["author_name"], reply["source"], reply["body"]) == (
        "operator",
        "ayse",
        "telegram",
        "Yes! How can I help?",
    )


async def test_the_same_update_delivered_twice_makes_one_message(
    telegram_settings, start_bridge, connect_visitor, make_operator
):
    api = telegram_settings
    bridge = start_bridge()
    await link_operator(api, make_operator)
    visitor = await connect_visitor()
    topic_id = await open_topic(api, visitor, "hello")
    bridge.terminate()
    update = api.operator_text(
        "only once", user_id=OPERATOR_TG_ID, message_thread_id=topic_id
    )
    update_id = api.push_update(update)
    api.push_raw_update({**update, "update_id": update_id})
    api.push_raw_update({**update, "update_id": update_id + 1})  # same message, new id
    start_bridge()
    await operator_message(visitor)
    await api.wait_for_async(
        lambda f: f.confirmed_offset >= update_id + 2, timeout=BRIDGE_WAIT
    )
    bodies = await database_sync_to_async(
        lambda: list(
            Message.objects.filter(author="operator").values_list("body", flat=True)
        )
    )()
    assert bodies == ["only once"]


async def test_unlinked_group_member_is_refused_and_nothing_is_sent(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    start_bridge()
    visitor = await connect_visitor()
    topic_id = await open_topic(api, visitor, "hi")
    api.push_update(
        api.operator_text(
            "I am not an operator", user_id=999, message_thread_id=topic_id
        )
    )
    await texts_in_chat(api, "Only linked operators")
    count = await database_sync_to_async(
        Message.objects.filter(author="operator").count
    )()
    assert count == 0


async def test_429_storm_is_waited_out_and_order_is_kept(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    api.fail_next("sendMessage", status=429, retry_after=1, times=2)
    start_bridge()
    visitor = await connect_visitor()
    await visitor_says(visitor, "first", "second")
    sent = await texts_in_chat(api, "first", "second")
    joined = "\n".join(m["text"] for m in sent)
    assert joined.index("first") < joined.index("second")
    calls = api.calls("sendMessage")
    limited = [c for c in calls if c.status == 429]
    accepted = [c for c in calls if c.status == 200 and "first" in c.params["text"]]
    assert len(limited) == 2
    assert accepted[0].at - limited[-1].at >= 1.0  # retry_after honoured


async def test_a_backlog_is_sent_as_one_combined_message(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    visitor = await connect_visitor()
    await visitor_says(visitor, "one", "two", "three", "four")  # the bridge is down
    start_bridge()
    sent = await texts_in_chat(api, "• ")
    combined = [m["text"] for m in sent if "• " in m["text"]]
    assert len(combined) == 1
    assert (
        combined[0].index("one") < combined[0].index("two") < combined[0].index("four")
    )
    await eventually(
        lambda: not OutboxEntry.objects.exclude(status=OutboxEntry.Status.DONE).exists()
    )


async def test_bridge_killed_mid_delivery_loses_nothing(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    api.delay_next("sendMessage", 30)  # Telegram takes the message, the answer hangs
    bridge = start_bridge()
    visitor = await connect_visitor()
    await visitor_says(visitor, "while it dies")
    await api.wait_for_async(lambda f: f.calls("sendMessage"), timeout=BRIDGE_WAIT)
    bridge.kill()
    await visitor_says(visitor, "after it died")
    start_bridge()  # takes over once the dead bridge's lease (3 s in tests) expires
    sent = await texts_in_chat(
        api, "while it dies", "after it died", timeout=BRIDGE_WAIT
    )
    joined = "\n".join(m["text"] for m in sent)
    assert 1 <= joined.count("while it dies") <= 2  # at most one duplicate, documented
    assert joined.count("after it died") == 1


async def test_a_second_bridge_waits_and_takes_over(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    first = start_bridge()
    await api.wait_for_async(lambda f: f.calls("getUpdates"), timeout=BRIDGE_WAIT)
    second = start_bridge()
    await api.wait_for_async(
        lambda f: "waiting" in second.output() or None, timeout=BRIDGE_WAIT
    )
    assert first.terminate() == 0
    visitor = await connect_visitor()
    await visitor_says(visitor, "handled by the second bridge")
    await texts_in_chat(api, "handled by the second bridge", timeout=BRIDGE_WAIT)


async def test_commands_close_and_info(operator_bridge, connect_visitor):
    api = operator_bridge
    visitor = await connect_visitor()
    await visitor.send(type="visitor.update", name="Murat")
    topic_id = await open_topic(api, visitor, "order 1042?")
    api.push_update(
        api.command("/info", user_id=OPERATOR_TG_ID, message_thread_id=topic_id)
    )
    await texts_in_chat(api, "Visitor: Murat")
    api.push_update(
        api.command("/frobnicate", user_id=OPERATOR_TG_ID, message_thread_id=topic_id)
    )
    await texts_in_chat(api, "/help")
    api.push_update(
        api.command("/close", user_id=OPERATOR_TG_ID, message_thread_id=topic_id)
    )
    await api.wait_for_async(lambda f: f.topics[topic_id].closed, timeout=BRIDGE_WAIT)
    thread = visitor.hello["thread"]["id"]
    status = await database_sync_to_async(
        lambda: Thread.objects.get(pk=thread).status
    )()
    assert status == "closed"


async def test_an_edit_in_telegram_updates_the_visitors_message(
    operator_bridge, connect_visitor
):
    api = operator_bridge
    visitor = await connect_visitor()
    topic_id = await open_topic(api, visitor, "hi")
    update = api.operator_text(
        "Helo", user_id=OPERATOR_TG_ID, message_thread_id=topic_id
    )
    api.push_update(update)
    first = await operator_message(visitor)
    api.push_update(api.operator_edit(update["message"]["message_id"], "Hello"))
    edited = await operator_message(visitor)
    assert (edited["id"], edited["body"]) == (first["id"], "Hello")
    assert edited["edited"] is not None


async def test_visitor_typing_reading_and_leaving_show_in_telegram(
    operator_bridge, connect_visitor
):
    api = operator_bridge
    visitor = await connect_visitor()
    topic_id = await open_topic(api, visitor, "hi")
    await visitor.send(type="typing", active=True)
    await api.wait_for_async(
        lambda f: [a for a in f.chat_actions if a[1] == "typing"], timeout=BRIDGE_WAIT
    )
    update = api.operator_text(
        "Hello!", user_id=OPERATOR_TG_ID, message_thread_id=topic_id
    )
    api.push_update(update)
    reply = await operator_message(visitor)
    await visitor.send(type="read", up_to=reply["id"])
    await api.wait_for_async(
        lambda f: [r for r in f.reactions if r[1] == update["message"]["message_id"]],
        timeout=BRIDGE_WAIT,
    )
    await visitor.close()
    await texts_in_chat(api, "left the page")


def test_runtelegram_refuses_an_incomplete_configuration(settings) -> None:
    from django.core.management import CommandError, call_command

    settings.TELEGRAM_BOT_TOKEN = ""
    with pytest.raises(CommandError, match="TELEGRAM_BOT_TOKEN"):
        call_command("runtelegram")
    settings.TELEGRAM_BOT_TOKEN = "123:abc"
    settings.TELEGRAM_CHAT_ID = "-100"
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
    with pytest.raises(CommandError, match="REDIS_URL"):
        call_command("runtelegram")


def call_api(api: Any, method: str, **params: Any) -> Any:
    """Act in Telegram as a group admin would (the fake applies it like Telegram)."""
    request = urllib.request.Request(  # noqa: S310 - the fake, on loopback
        f"{api.base_url}{api.token}/{method}",
        data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


async def test_a_deleted_topic_is_recreated(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    start_bridge()
    visitor = await connect_visitor()
    await visitor_says(visitor, "first")
    old_topic = (await texts_in_chat(api, "first"))[-1]["message_thread_id"]
    call_api(api, "deleteForumTopic", chat_id=CHAT_ID, message_thread_id=old_topic)
    await visitor_says(visitor, "second")
    sent = await texts_in_chat(api, "second")
    new_topic = next(m for m in sent if m["text"] == "second")["message_thread_id"]
    assert new_topic != old_topic
    assert not api.topics[new_topic].deleted


async def test_operator_web_replies_show_in_the_topic_marked_as_such(
    telegram_settings, start_bridge, connect_visitor, connect_operator
):
    api = telegram_settings
    start_bridge()
    operator = await connect_operator()
    visitor = await connect_visitor()
    await visitor_says(visitor, "hello")
    await texts_in_chat(api, "hello")
    thread = visitor.hello["thread"]["id"]
    await operator.send(
        type="message.send", thread=thread, client_id=new_id(), body="from the inbox"
    )
    await operator.receive_type("ack")
    sent = await texts_in_chat(api, "from the inbox")
    mine = next(m for m in sent if "from the inbox" in m["text"])
    assert mine["text"] == "🧑‍💼 ayse (web)\nfrom the inbox"


@pytest.mark.plain_group
async def test_plain_group_uses_headers_and_replies(operator_bridge, connect_visitor):
    api = operator_bridge
    visitor = await connect_visitor()
    await visitor.send(type="visitor.update", name="Deniz")
    await visitor_says(visitor, "no topics here")
    thread = visitor.hello["thread"]["id"]
    sent = await texts_in_chat(api, "no topics here")
    bridged = next(m for m in sent if "no topics here" in m["text"])
    assert bridged["text"] == f"💬 Deniz · #{thread}\nno topics here"
    assert api.topics == {}
    # The bridge records which Telegram message carries it right after sending.
    await eventually(
        lambda: not OutboxEntry.objects.exclude(status=OutboxEntry.Status.DONE).exists()
    )
    api.push_update(
        api.operator_text(
            "answered by reply",
            user_id=OPERATOR_TG_ID,
            reply_to_message_id=bridged["message_id"],
        )
    )
    reply = await operator_message(visitor)
    assert reply["body"] == "answered by reply"


async def test_a_long_backlog_is_split_at_telegrams_limit(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    visitor = await connect_visitor()
    await visitor_says(visitor, "a" * 3000, "b" * 3000, "c" * 3000)
    start_bridge()
    await texts_in_chat(api, "c" * 100)
    parts = [m["text"] for m in api.sent_messages(chat_id=CHAT_ID) if "text" in m]
    assert all(len(part) <= 4096 for part in parts)
    joined = "".join(parts)
    assert joined.count("a") >= 3000 and joined.count("c") >= 3000


async def test_server_errors_are_retried_and_refused_content_is_marked_failed(
    telegram_settings, start_bridge, connect_visitor, make_operator
):
    api = telegram_settings
    api.fail_next("sendMessage", status=500, times=1)
    start_bridge()
    visitor = await connect_visitor()
    await visitor_says(visitor, "after a 500")
    await texts_in_chat(api, "after a 500")
    api.fail_next(
        "sendMessage", status=400, description="Bad Request: message is too long"
    )
    await visitor_says(visitor, "refused")
    await eventually(
        lambda: OutboxEntry.objects.filter(status=OutboxEntry.Status.FAILED).exists()
    )
    admin = await make_operator("boss", is_superuser=True)

    def failed_listing() -> str:
        client = Client()
        client.force_login(admin)
        return client.get(
            "/admin/chat/outboxentry/?status__exact=failed"
        ).content.decode()

    assert "Message is too long" in await sync_to_async(failed_listing)()
    rows = await database_sync_to_async(
        lambda: list(
            OutboxEntry.objects.filter(status=OutboxEntry.Status.FAILED).values_list(
                "message__body", "attempts"
            )
        )
    )()
    assert rows == [("refused", 1)]


async def test_online_in_telegram_tells_visitors_an_operator_is_there(
    operator_bridge, connect_visitor
):
    api = operator_bridge
    visitor = await connect_visitor()
    assert visitor.hello["operators_online"] is False
    api.push_update(api.command("/online", user_id=OPERATOR_TG_ID))
    assert (await visitor.receive_type("presence", timeout=BRIDGE_WAIT))[
        "operators_online"
    ] is True
    api.push_update(api.command("/away", user_id=OPERATOR_TG_ID))
    assert (await visitor.receive_type("presence", timeout=BRIDGE_WAIT))[
        "operators_online"
    ] is False


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (5, 4), (10, 200, 90)).save(out, "PNG")
    return out.getvalue()


async def visitor_sends_file(visitor: Any, name: str, content: bytes) -> dict[str, Any]:
    def upload() -> dict[str, Any]:
        client = Client()
        client.cookies["sessionid"] = visitor.cookie
        client.get("/")
        response = client.post(
            "/api/uploads/",
            {"file": SimpleUploadedFile(name, content)},
            HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        )
        assert response.status_code == 201, response.content
        return response.json()

    uploaded = await sync_to_async(upload)()
    await visitor.send(
        type="message.send", client_id=new_id(), body="", attachment=uploaded["id"]
    )
    await visitor.receive_type("ack")
    return uploaded


async def test_visitor_image_and_voice_note_reach_the_topic_as_photo_and_voice(
    media_root, telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    start_bridge()
    visitor = await connect_visitor()
    topic_id = await open_topic(api, visitor, "sending you a screenshot")
    await visitor_sends_file(visitor, "screen.png", png_bytes())
    photo = await api.wait_for_async(
        lambda f: f.calls("sendPhoto"), timeout=BRIDGE_WAIT
    )
    assert photo[0].params["message_thread_id"] == topic_id
    sent_png = next(iter(photo[0].files.values()))
    assert Image.open(io.BytesIO(sent_png.content)).size == (5, 4)
    await visitor_sends_file(visitor, "voice-note.ogg", b"OggS\x00\x02" + b"\x01" * 200)
    voice = await api.wait_for_async(
        lambda f: f.calls("sendVoice"), timeout=BRIDGE_WAIT
    )
    assert voice[0].params["message_thread_id"] == topic_id


async def test_operator_photo_in_telegram_reaches_the_visitor_as_an_image(
    media_root, operator_bridge, connect_visitor
):
    api = operator_bridge
    visitor = await connect_visitor()
    topic_id = await open_topic(api, visitor, "can you show me?")
    api.push_update(
        api.operator_photo(
            png_bytes(),
            caption="here it is",
            user_id=OPERATOR_TG_ID,
            message_thread_id=topic_id,
        )
    )
    message = await operator_message(visitor)
    assert message["body"] == "here it is"
    assert message["attachment"]["kind"] == "image"

    def fetch() -> bytes:
        client = Client()
        client.cookies["sessionid"] = visitor.cookie
        response = client.get(message["attachment"]["url"])
        assert response.status_code == 200
        return b"".join(response.streaming_content)

    fetched = await sync_to_async(fetch)()
    assert Image.open(io.BytesIO(fetched)).size == (5, 4)


async def test_a_file_too_big_for_the_bot_gets_a_note_in_the_topic(
    media_root, operator_bridge, connect_visitor
):
    api = operator_bridge
    visitor = await connect_visitor()
    topic_id = await open_topic(api, visitor, "send the manual")
    api.push_update(
        api.operator_document(
            b"%PDF-1.7 small",
            file_size=25 * 1024 * 1024,
            user_id=OPERATOR_TG_ID,
            message_thread_id=topic_id,
        )
    )
    await texts_in_chat(api, "too big for the bot")
    count = await database_sync_to_async(
        Message.objects.filter(author="operator").count
    )()
    assert count == 0
