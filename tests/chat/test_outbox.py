"""The outbox of external deliveries: what the message path queues, and how failed
deliveries are queued again from the admin."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from chat import services
from chat.models import OutboxEntry, Thread

pytestmark = pytest.mark.django_db(transaction=True)


def new_id() -> str:
    return str(uuid.uuid4())


@database_sync_to_async
def outbox_rows() -> list[tuple[str, int | None]]:
    return list(OutboxEntry.objects.order_by("pk").values_list("kind", "message_id"))


async def test_a_visitor_reopening_a_closed_thread_queues_the_reopening_first(
    connect_visitor, settings
):
    settings.SOHBET_OUTBOX_CHANNELS = ["telegram"]
    visitor = await connect_visitor()
    thread = visitor.hello["thread"]["id"]
    await visitor.send(type="message.send", client_id=new_id(), body="first")
    first = (await visitor.receive_type("ack"))["id"]
    await database_sync_to_async(services.close_thread)(thread_id=thread)
    await visitor.send(type="message.send", client_id=new_id(), body="still there?")
    second = (await visitor.receive_type("ack"))["id"]

    assert await outbox_rows() == [
        ("message", first),
        ("thread_closed", None),
        ("thread_reopened", None),
        ("message", second),
    ]
    status = await database_sync_to_async(
        lambda: Thread.objects.get(pk=thread).status
    )()
    assert status == "open"


def failed_entry(thread: Thread, error: str = "Forbidden: bot was kicked") -> int:
    entry = OutboxEntry.objects.create(
        channel="telegram", kind=OutboxEntry.Kind.THREAD_CLOSED, thread=thread
    )
    services.fail_outbox(entry_ids=[entry.pk], error=error)
    return entry.pk


def test_an_admin_queues_failed_deliveries_again(admin_client_and_thread) -> None:
    client, thread = admin_client_and_thread
    failed = failed_entry(thread)
    done = OutboxEntry.objects.create(
        channel="telegram",
        kind=OutboxEntry.Kind.THREAD_REOPENED,
        thread=thread,
        status=OutboxEntry.Status.DONE,
    )

    response = client.post(
        "/admin/chat/outboxentry/",
        {"action": "retry_selected", "_selected_action": [failed, done.pk]},
        follow=True,
    )

    assert "1 delivery queued again" in response.content.decode()
    entry = OutboxEntry.objects.get(pk=failed)
    assert (entry.status, entry.attempts, entry.done_at) == ("pending", 0, None)
    assert OutboxEntry.objects.get(pk=done.pk).status == "done"


@pytest.fixture
def admin_client_and_thread(django_user_model) -> tuple[Client, Thread]:
    admin = django_user_model.objects.create_superuser("boss", password="x" * 12)
    client = Client()
    client.force_login(admin)
    _visitor, thread = services.start_visitor(session_key="s" * 32)
    return client, thread
