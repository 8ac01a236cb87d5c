"""Private notes through the bridge: a web note marked in the topic and a mention
sent privately; ``/note`` and ``/transfer`` in a topic, never reaching the visitor."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from chat.models import Note, Thread, Visitor
from telegram_bridge.notes import render_mention, render_note
from tests.telegram.e2e import OPERATOR_TG_ID, new_id, open_topic, texts_in_chat


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_redis
async def test_notes_go_both_ways_and_never_to_the_visitor(
    operator_bridge: Any,
    connect_visitor: Any,
    connect_operator: Any,
    make_operator: Any,
) -> None:
    api = operator_bridge  # "ayse" is linked to Telegram user OPERATOR_TG_ID
    mehmet = await connect_operator(await make_operator("mehmet", first_name="Mehmet"))
    visitor = await connect_visitor()
    topic_id = await open_topic(api, visitor, "where is my order?")
    thread = visitor.hello["thread"]["id"]

    # Web -> Telegram: marked in the topic; the mentioned operator told privately.
    await mehmet.send(
        type="note.add", thread=thread, client_id=new_id(), body="@ayse refund it?"
    )
    await mehmet.receive_type("note")  # their own, as every operator's
    [note] = [
        m for m in await texts_in_chat(api, "refund it?") if "refund it?" in m["text"]
    ]
    assert note["text"] == "🔒 Note by Mehmet: @ayse refund it?"
    assert note["message_thread_id"] == topic_id
    private = await api.wait_for_async(
        lambda f: [
            m
            for m in f.sent_messages(chat_id=OPERATOR_TG_ID)
            if "mentioned you" in m.get("text", "")
        ],
        timeout=10,
    )
    assert "Mehmet mentioned you" in private[0]["text"]
    assert f"#thread-{thread}" in private[0]["text"]

    # Telegram -> web: /note is a note, told to the inbox, not a message.
    api.push_update(
        api.command(
            "/note refunded, tell them",
            user_id=OPERATOR_TG_ID,
            message_thread_id=topic_id,
        )
    )
    live = (await mehmet.receive_type("note", timeout=10))["note"]
    assert (live["body"], live["source"]) == ("refunded, tell them", "telegram")
    await texts_in_chat(api, "Private note saved")

    # /transfer @name note: assigned, noted, the colleague told.
    api.push_update(
        api.command(
            "/transfer @mehmet VIP customer",
            user_id=OPERATOR_TG_ID,
            message_thread_id=topic_id,
        )
    )
    alert = await mehmet.receive_type("mention", timeout=10)
    assert alert["note"]["body"] == "Transferred to Mehmet: VIP customer"
    await texts_in_chat(api, f"Conversation #{thread} transferred to Mehmet.")
    row = await database_sync_to_async(Thread.objects.get)(pk=thread)
    assert row.assigned_to_id == mehmet.user.pk
    assert await database_sync_to_async(Note.objects.count)() == 3

    # A name that is no operator's changes nothing.
    api.push_update(
        api.command(
            "/transfer @ghost x", user_id=OPERATOR_TG_ID, message_thread_id=topic_id
        )
    )
    await texts_in_chat(api, "Name an operator")
    assert await database_sync_to_async(Note.objects.count)() == 3

    # The visitor heard none of it.
    while not await visitor.nothing_more():
        frame = str(await visitor.receive())
        assert "refund" not in frame and "VIP" not in frame


def test_a_note_in_a_plain_group_says_which_conversation() -> None:
    thread = Thread(pk=12, visitor=Visitor(pk=3, name="Murat"))
    note = Note(thread=thread, author_name="Ayşe", body="check the refund")

    assert render_note(note, thread, is_forum=True) == (
        "🔒 Note by Ayşe: check the refund"
    )
    assert render_note(note, thread, is_forum=False) == (
        "💬 Murat · #12\n🔒 Note by Ayşe: check the refund"
    )
    mention = render_mention(note, thread)
    assert mention.startswith("🔔 Ayşe mentioned you in a private note")
    assert "conversation #12, Murat" in mention and "check the refund" in mention
