"""Private notes (docs/protocol.md, "Private notes"): every operator sees them live,
the operators they mention are told, and no path of the visitor's ever carries one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async

from chat import services
from chat.models import Note, OutboxEntry, Thread
from chat.notes import mentioned_names
from tests.chat.email.test_worker import conversation

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "Card declined twice, suspect fraud"


async def visitor_with_message(connect_visitor: Any) -> tuple[Any, int]:
    visitor = await connect_visitor()
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body="Hi")
    await visitor.receive_type("ack")
    return visitor, visitor.hello["thread"]["id"]


async def hears_no_note(socket: Any) -> bool:
    """No frame carrying the note's text until the socket is quiet a moment."""
    while not await socket.nothing_more():
        if SECRET in str(await socket.receive()):
            return False
    return True


async def test_a_note_reaches_every_operator_live_and_never_the_visitor(
    connect_visitor, connect_operator, make_operator
) -> None:  # type: ignore[no-untyped-def]
    ayse = await connect_operator()
    mehmet = await connect_operator(await make_operator("mehmet"))
    visitor, thread = await visitor_with_message(connect_visitor)
    tab = await connect_visitor(visitor.cookie)
    client_id = str(uuid.uuid4())

    await ayse.send(type="note.add", thread=thread, client_id=client_id, body=SECRET)

    ack = await ayse.receive_type("note.ack")
    assert ack["client_id"] == client_id
    for operator in (ayse, mehmet):
        note = (await operator.receive_type("note"))["note"]
        assert (note["id"], note["thread"], note["body"]) == (ack["id"], thread, SECRET)
        assert note["author_name"] == "ayse"
    for socket in (visitor, tab):
        assert await hears_no_note(socket)
    # Nor in what the visitor's page loads.
    for frame in ({"type": "sync", "after": 0}, {"type": "history"}):
        await visitor.send(**frame)
        page = await visitor.receive_type(frame["type"])
        assert [m["body"] for m in page["messages"]] == ["Hi"]
        assert SECRET not in str(page)
    # The operators load it with the conversation; their messages do not hold it.
    await mehmet.send(type="notes", thread=thread)
    notes = await mehmet.receive_type("notes")
    assert [n["body"] for n in notes["notes"]] == [SECRET]
    await mehmet.send(type="history", thread=thread)
    assert SECRET not in str(await mehmet.receive_type("history"))


async def test_a_resent_note_is_stored_once(connect_visitor, connect_operator) -> None:  # type: ignore[no-untyped-def]
    operator = await connect_operator()
    _visitor, thread = await visitor_with_message(connect_visitor)
    client_id = str(uuid.uuid4())
    for _ in range(2):
        await operator.send(
            type="note.add", thread=thread, client_id=client_id, body="x"
        )
        await operator.receive_type("note.ack")
    assert await database_sync_to_async(Note.objects.count)() == 1


async def test_a_mention_alerts_that_operator_only(
    connect_visitor, connect_operator, make_operator
) -> None:  # type: ignore[no-untyped-def]
    ayse = await connect_operator()
    mehmet = await connect_operator(await make_operator("mehmet", first_name="Mehmet"))
    zeynep = await connect_operator(await make_operator("zeynep"))
    _visitor, thread = await visitor_with_message(connect_visitor)

    body = "@Mehmet can you check? (not @nobody, nor ada@example.com)"
    await ayse.send(
        type="note.add", thread=thread, client_id=str(uuid.uuid4()), body=body
    )

    alert = await mehmet.receive_type("mention")
    assert alert["note"]["body"] == body
    assert alert["note"]["mentions"] == [mehmet.user.pk]
    await zeynep.receive_type("note")
    for socket in (ayse, zeynep):
        while not await socket.nothing_more():
            assert (await socket.receive())["type"] != "mention"


async def test_an_unknown_mention_does_nothing(
    connect_visitor, connect_operator
) -> None:  # type: ignore[no-untyped-def]
    ayse = await connect_operator()
    _visitor, thread = await visitor_with_message(connect_visitor)
    await ayse.send(
        type="note.add", thread=thread, client_id=str(uuid.uuid4()), body="@ghost hi"
    )
    note = (await ayse.receive_type("note"))["note"]
    assert note["mentions"] == []


async def test_bad_notes_are_refused_and_change_nothing(
    connect_visitor, connect_operator
) -> None:  # type: ignore[no-untyped-def]
    operator = await connect_operator()
    _visitor, thread = await visitor_with_message(connect_visitor)
    bad = [
        ({"thread": thread, "client_id": str(uuid.uuid4()), "body": "  "}, "invalid"),
        ({"thread": thread, "client_id": "nope", "body": "x"}, "invalid"),
        ({"thread": 10**9, "client_id": str(uuid.uuid4()), "body": "x"}, "not_found"),
        (
            {"thread": thread, "client_id": str(uuid.uuid4()), "body": "x" * 10**5},
            "too_long",
        ),
    ]
    for frame, code in bad:
        await operator.send(type="note.add", **frame)
        assert (await operator.receive_type("error"))["code"] == code
    assert await database_sync_to_async(Note.objects.count)() == 0


async def test_a_visitor_cannot_send_note_frames(connect_visitor) -> None:  # type: ignore[no-untyped-def]
    visitor, thread = await visitor_with_message(connect_visitor)
    for kind in ("note.add", "notes", "thread.transfer"):
        await visitor.send(
            type=kind, thread=thread, body="x", client_id=str(uuid.uuid4())
        )
        assert (await visitor.receive_type("error"))["code"] == "invalid"


async def test_a_transfer_assigns_notes_and_tells_the_new_operator(
    connect_visitor, connect_operator, make_operator
) -> None:  # type: ignore[no-untyped-def]
    ayse = await connect_operator()
    mehmet = await connect_operator(await make_operator("mehmet", first_name="Mehmet"))
    visitor, thread = await visitor_with_message(connect_visitor)

    await ayse.send(
        type="thread.transfer", thread=thread, operator=mehmet.user.pk, note="VIP"
    )

    alert = await mehmet.receive_type("mention")
    assert alert["note"]["body"] == "Transferred to Mehmet: VIP"
    row = await database_sync_to_async(Thread.objects.get)(pk=thread)
    assert row.assigned_to_id == mehmet.user.pk
    while not await visitor.nothing_more():
        assert "VIP" not in str(await visitor.receive())


async def test_a_transfer_to_no_such_operator_changes_nothing(
    connect_visitor, connect_operator
) -> None:  # type: ignore[no-untyped-def]
    ayse = await connect_operator()
    _visitor, thread = await visitor_with_message(connect_visitor)
    await ayse.send(type="thread.transfer", thread=thread, operator=10**9, note="x")
    assert (await ayse.receive_type("error"))["code"] == "not_found"
    assert await database_sync_to_async(Note.objects.count)() == 0


def test_notes_are_queued_for_the_outbox_channels_not_back_to_their_source(
    settings, django_user_model
) -> None:  # type: ignore[no-untyped-def]
    settings.SOHBET_OUTBOX_CHANNELS = ["telegram"]
    ayse = django_user_model.objects.create_user("ayse", is_staff=True)
    django_user_model.objects.create_user("mehmet", is_staff=True)
    thread = conversation()
    OutboxEntry.objects.all().delete()

    services.add_note(thread_id=thread.pk, author=ayse, body="for @mehmet")
    services.add_note(thread_id=thread.pk, author=ayse, body="plain", source="telegram")

    assert list(OutboxEntry.objects.values_list("kind", "note__body")) == [
        ("note", "for @mehmet"),
        ("mention", "for @mehmet"),
    ]


def test_mentioned_names() -> None:
    assert mentioned_names("@Ayşe, @ayse.k. and @ayşe; mail a@b.c @@x") == [
        "ayşe",
        "ayse.k",
    ]


def test_the_admin_lists_notes_read_only(django_user_model) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    owner = django_user_model.objects.create_superuser("owner", password="x")
    thread = conversation()
    services.add_note(thread_id=thread.pk, author=owner, body="internal only")
    client = Client()
    client.force_login(owner)

    page = client.get("/admin/chat/note/")

    assert page.status_code == 200
    assert "internal only" in page.content.decode()
    assert client.get("/admin/chat/note/add/").status_code == 403
