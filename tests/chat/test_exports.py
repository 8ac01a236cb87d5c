"""The admin's export of conversations in a date range: streamed, complete, checked."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Permission
from django.test import AsyncClient
from django.utils import timezone

from chat import exports, services
from chat.models import Message, Thread

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/admin/chat/conversationexport/"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def make_conversations(count: int, messages: int) -> list[int]:
    ids = []
    for n in range(count):
        _visitor, thread = services.start_visitor(session_key=f"s{n}")
        for m in range(messages):
            services.post_message(
                thread_id=thread.pk,
                client_id=uuid.uuid4(),
                body=f"=SUM(A1) {n}.{m}" if m == 0 else f"message {n}.{m}",
                author_name=f"Visitor {n}",
            )
        ids.append(thread.pk)
    old = Thread.objects.get(pk=ids[-1])  # started long before the range
    Thread.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=30)
    )
    return ids


def make_user(django_user_model: Any, *, may_export: bool) -> Any:
    user = django_user_model.objects.create_user("deniz", password="x", is_staff=True)
    if may_export:
        user.user_permissions.add(
            Permission.objects.get(codename="view_conversationexport")
        )
    return user


async def download(client: AsyncClient, kind: str) -> tuple[Any, list[str]]:
    today = timezone.localdate()
    start = today - dt.timedelta(days=6)
    response = await client.get(
        URL, {"start": start, "end": today, "format": kind, "download": "1"}
    )
    chunks = [
        chunk.decode() if isinstance(chunk, bytes) else chunk
        async for chunk in response.streaming_content
    ]
    return response, chunks


async def test_csv_export_streams_every_message_of_the_range_in_pages(
    django_user_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "THREAD_PAGE", 2)
    monkeypatch.setattr(exports, "MESSAGE_PAGE", 3)
    ids = await sync_to_async(make_conversations)(4, 4)
    user = await sync_to_async(make_user)(django_user_model, may_export=True)
    client = AsyncClient()
    await client.aforce_login(user)
    response, chunks = await download(client, "csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert len(chunks) >= 5  # the header, then page after page
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    expected = [(pk, seq) for pk in ids[:3] for seq in range(1, 5)]
    assert [(int(r["thread_id"]), int(r["seq"])) for r in rows] == expected
    assert rows[0]["body"] == "'=SUM(A1) 0.0"  # no formula for a spreadsheet
    assert rows[1]["author_name"] == "Visitor 0"
    assert rows[1]["visitor_name"].startswith("Visitor #")


async def test_json_export_holds_each_conversation_with_its_messages(
    django_user_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "THREAD_PAGE", 2)
    monkeypatch.setattr(exports, "MESSAGE_PAGE", 3)
    ids = await sync_to_async(make_conversations)(4, 4)
    user = await sync_to_async(make_user)(django_user_model, may_export=True)
    client = AsyncClient()
    await client.aforce_login(user)
    response, chunks = await download(client, "json")
    data = json.loads("".join(chunks))
    assert [c["id"] for c in data] == ids[:3]
    assert [[m["seq"] for m in c["messages"]] for c in data] == [[1, 2, 3, 4]] * 3
    assert data[1]["visitor"]["name"] == ""
    assert data[1]["messages"][1]["body"] == "message 1.1"
    count = await sync_to_async(Message.objects.filter(thread_id__in=ids[:3]).count)()
    assert sum(len(c["messages"]) for c in data) == count


async def test_an_empty_range_exports_an_empty_list(django_user_model: Any) -> None:
    user = await sync_to_async(make_user)(django_user_model, may_export=True)
    client = AsyncClient()
    await client.aforce_login(user)
    _response, chunks = await download(client, "json")
    assert json.loads("".join(chunks)) == []


async def test_exporting_needs_its_permission_and_a_bounded_range(
    django_user_model: Any,
) -> None:
    user = await sync_to_async(make_user)(django_user_model, may_export=False)
    client = AsyncClient()
    await client.aforce_login(user)
    assert (await client.get(URL, {"download": "1"})).status_code == 403
    await sync_to_async(user.user_permissions.add)(
        await sync_to_async(Permission.objects.get)(codename="view_conversationexport")
    )
    client = AsyncClient()
    await client.aforce_login(user)
    response = await client.get(
        URL, {"start": "2024-01-01", "end": "2025-06-01", "download": "1"}
    )
    assert response.status_code == 200
    assert not response.streaming  # the form again, with the error
    assert "Choose at most 366 days." in response.content.decode()
