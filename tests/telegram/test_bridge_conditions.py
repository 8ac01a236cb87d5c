"""The bridge process under Telegram's real conditions (issue 15): files Telegram
will not serve, the group's flood limits, closed topics, the bot's rights coming and
going, flood waits, visitor names, noise, an upgraded group. End to end: web sockets
<-> ``manage.py runtelegram`` <-> the fake Bot API, which enforces Telegram's rules
(ten times as fast)."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.test import Client

from chat.models import OutboxEntry
from tests.telegram.conftest import CHAT_ID
from tests.telegram.e2e import (
    BRIDGE_WAIT,
    OPERATOR_TG_ID,
    eventually,
    open_topic,
    operator_message,
    texts_in_chat,
    visitor_says,
)
from tests.telegram.harness import png_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_redis]

MEMBER_TG_ID = 5550002  # a regular member of the group: not an admin


def failed_count() -> int:
    return OutboxEntry.objects.filter(status=OutboxEntry.Status.FAILED).count()


# 1. An operator's file Telegram will not serve ----------------------------------


async def test_a_file_telegram_will_not_serve_does_not_stop_the_bridge(
    media_root, operator_bridge, connect_visitor, start_bridge
):
    api = operator_bridge
    visitor = await connect_visitor()
    topic = await open_topic(api, visitor, "send me the photo")
    api.fail_next("getFile", status=429, retry_after=1)
    api.fail_next("downloadFile", status=404, times=100)
    api.push_update(
        api.operator_photo(png_bytes(), user_id=OPERATOR_TG_ID, message_thread_id=topic)
    )
    await texts_in_chat(api, "could not be fetched", timeout=BRIDGE_WAIT)
    api.push_update(
        api.operator_text(
            "I'll try again", user_id=OPERATOR_TG_ID, message_thread_id=topic
        )
    )

    assert (await operator_message(visitor))["body"] == "I'll try again"
    limited, *retried = api.calls("getFile")
    assert retried[0].at - limited.at >= 1  # the 429's retry_after was honoured


# 2. A burst across conversations, under the group's limit ------------------------


async def test_a_burst_across_conversations_is_paced_and_kept_in_order(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    start_bridge()
    visitors = [await connect_visitor() for _ in range(5)]
    for n in range(60):
        await visitor_says(visitors[n % 5], f"burst {n:02d}")

    await api.wait_for_async(
        lambda f: "burst 59" in "".join(m.get("text", "") for m in f.sent_messages()),
        timeout=BRIDGE_WAIT,
    )
    assert [c.status for c in api.calls() if c.status == 429] == []
    for topic in api.topics:
        said = re.findall(
            r"burst \d\d",
            "\n".join(m["text"] for m in api.sent_messages(thread_id=topic)),
        )
        assert len(said) == 12 and said == sorted(said)


# 3. A visitor writing after /close ----------------------------------------------


async def test_a_visitor_writing_after_close_reopens_the_topic(
    operator_bridge, connect_visitor, make_operator
):
    api = operator_bridge
    visitor = await connect_visitor()
    topic = await open_topic(api, visitor, "thanks, bye")
    api.push_update(
        api.command("/close", user_id=OPERATOR_TG_ID, message_thread_id=topic)
    )
    await api.wait_for_async(lambda f: f.topics[topic].closed, timeout=BRIDGE_WAIT)

    await visitor_says(visitor, "one more question")
    await api.wait_for_async(lambda f: not f.topics[topic].closed, timeout=BRIDGE_WAIT)
    await texts_in_chat(api, "one more question")
    # A member who is not an admin can write there again (Telegram refuses them in
    # a closed topic): their message is refused only for not being linked.
    api.push_update(
        api.operator_text("ask away", user_id=MEMBER_TG_ID, message_thread_id=topic)
    )
    await texts_in_chat(api, "Only linked operators")


# 4. The bot's rights coming and going; failures told once ------------------------


async def test_messages_written_while_the_bot_lacked_rights_arrive_once_it_has_them(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    start_bridge()
    visitor = await connect_visitor()
    await open_topic(api, visitor, "hello")
    api.set_bot_member("left")
    await visitor_says(visitor, "while the bot was out", "and this too")
    await eventually(lambda: OutboxEntry.objects.filter(attempts__gte=1).exists())
    api.set_bot_member("administrator")

    await texts_in_chat(
        api, "while the bot was out", "and this too", timeout=BRIDGE_WAIT
    )
    assert await database_sync_to_async(failed_count)() == 0


async def test_failed_deliveries_are_told_in_the_group_once_and_retried_from_the_admin(
    telegram_settings, start_bridge, connect_visitor, make_operator
):
    api = telegram_settings
    start_bridge()
    visitor = await connect_visitor()
    await open_topic(api, visitor, "hello")
    api.fail_next(
        "sendMessage", status=400, description="Bad Request: message is too long"
    )
    await visitor_says(visitor, "lost for now")
    told = await texts_in_chat(api, "could not be delivered")
    notice = next(m for m in told if "could not be delivered" in m["text"])
    assert (
        "/admin/chat/outboxentry/?channel__exact=telegram&status__exact=failed"
        in (notice["text"])
    )
    assert "message_thread_id" not in notice  # in the group's General topic

    admin = await make_operator("boss", is_superuser=True)

    def retry_from_the_admin() -> None:
        client = Client()
        client.force_login(admin)
        ids = list(
            OutboxEntry.objects.filter(status="failed").values_list("pk", flat=True)
        )
        client.post(
            "/admin/chat/outboxentry/",
            {"action": "retry_selected", "_selected_action": ids},
        )

    await sync_to_async(retry_from_the_admin)()
    await texts_in_chat(api, "lost for now")
    notices = [m for m in api.sent_messages() if "could not be delivered" in m["text"]]
    assert len(notices) == 1


# 5. A flood wait on a send outside the outbox -----------------------------------


async def test_a_429_on_typing_holds_the_next_message_for_its_retry_after(
    operator_bridge, connect_visitor
):
    api = operator_bridge
    visitor = await connect_visitor()
    await open_topic(api, visitor, "hi")
    api.fail_next("sendChatAction", status=429, retry_after=2)
    await visitor.send(type="typing", active=True)
    await api.wait_for_async(lambda f: f.calls("sendChatAction"), timeout=BRIDGE_WAIT)
    await visitor_says(visitor, "typed it")

    await texts_in_chat(api, "typed it")
    limited = api.calls("sendChatAction")[0]
    sent = next(c for c in api.calls("sendMessage") if "typed it" in c.params["text"])
    assert sent.at - limited.at >= 2  # and the fake saw no call during the wait


# 6. A name given after the first message ----------------------------------------


async def test_the_topic_takes_the_name_the_visitor_gives_later(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    start_bridge()
    visitor = await connect_visitor()
    topic = await open_topic(api, visitor, "hello")
    thread = visitor.hello["thread"]["id"]
    await visitor.send(type="visitor.update", name="Elif")

    await api.wait_for_async(
        lambda f: f.topics[topic].name == f"Elif · #{thread}", timeout=BRIDGE_WAIT
    )


# 7. One notice for /close --------------------------------------------------------


async def test_close_in_a_topic_closes_it_without_a_second_notice(
    operator_bridge, connect_visitor
):
    api = operator_bridge
    visitor = await connect_visitor()
    topic = await open_topic(api, visitor, "done, thanks")
    api.push_update(
        api.command("/close", user_id=OPERATOR_TG_ID, message_thread_id=topic)
    )
    await api.wait_for_async(lambda f: f.topics[topic].closed, timeout=BRIDGE_WAIT)
    # Closed, the topic takes nothing more from a member: ask for help in General.
    api.push_update(api.command("/help", user_id=OPERATOR_TG_ID))
    await texts_in_chat(api, "/away")  # the replies before it are all in

    assert [m["text"] for m in api.sent_messages() if "closed" in m["text"]] == []


@pytest.mark.plain_group
async def test_close_in_a_plain_group_posts_one_line(operator_bridge, connect_visitor):
    api = operator_bridge
    visitor = await connect_visitor()
    await visitor_says(visitor, "done, thanks")
    bridged = next(
        m for m in await texts_in_chat(api, "done, thanks") if "done" in m["text"]
    )
    await eventually(lambda: not OutboxEntry.objects.exclude(status="done").exists())
    api.push_update(
        api.command(
            "/close", user_id=OPERATOR_TG_ID, reply_to_message_id=bridged["message_id"]
        )
    )
    await texts_in_chat(api, "closed")
    api.push_update(
        api.command(
            "/info", user_id=OPERATOR_TG_ID, reply_to_message_id=bridged["message_id"]
        )
    )
    await texts_in_chat(api, "Visitor:")

    assert len([m for m in api.sent_messages() if "closed" in m["text"]]) == 1


# 8. An upgraded group -----------------------------------------------------------


async def test_an_upgraded_group_id_stops_the_bridge_with_the_id_to_set(
    telegram_settings, start_bridge
):
    api = telegram_settings
    api.migrate_chat(CHAT_ID, -1009876543210)

    bridge = start_bridge()
    assert bridge.process.wait(30) != 0
    output = bridge.output()
    assert "set TELEGRAM_CHAT_ID=-1009876543210" in output
    assert "Traceback" not in output
