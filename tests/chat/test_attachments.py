"""Uploading, sending and fetching attachments through the real views and sockets."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from chat.models import Attachment, Message

pytestmark = pytest.mark.django_db(transaction=True)


def png(size: tuple[int, int] = (4, 3)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 120, 200)).save(out, "PNG")
    return out.getvalue()


def visitor_client(cookie: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = cookie
    page = client.get("/")
    client.csrf = page.cookies["csrftoken"].value  # type: ignore[attr-defined]
    return client


def upload(client: Client, name: str, data: bytes, **extra: str):
    return client.post(
        "/api/uploads/",
        {"file": SimpleUploadedFile(name, data), **extra},
        HTTP_X_CSRFTOKEN=client.csrf,  # type: ignore[attr-defined]
    )


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


async def test_an_uploaded_image_travels_as_a_message(
    connect_visitor, connect_operator
):
    operator = await connect_operator()
    visitor = await connect_visitor()
    client = await sync_to_async(visitor_client)(visitor.cookie)
    response = await sync_to_async(upload)(client, "shot.png", png())
    assert response.status_code == 201
    uploaded = response.json()
    assert (uploaded["kind"], uploaded["content_type"], uploaded["name"]) == (
        "image",
        "image/png",
        "shot.png",
    )
    await visitor.send(
        type="message.send",
        client_id=str(uuid.uuid4()),
        body="",
        attachment=uploaded["id"],
    )
    await visitor.receive_type("ack")
    message = (await operator.receive_type("message"))["message"]
    assert message["attachment"]["id"] == uploaded["id"]
    assert (message["attachment"]["width"], message["attachment"]["height"]) == (4, 3)


async def test_an_attachment_can_be_sent_once_and_only_in_its_thread(connect_visitor):
    owner = await connect_visitor()
    client = await sync_to_async(visitor_client)(owner.cookie)
    uploaded = (await sync_to_async(upload)(client, "a.png", png())).json()
    other = await connect_visitor()
    stolen_id = str(uuid.uuid4())
    await other.send(
        type="message.send", client_id=stolen_id, body="", attachment=uploaded["id"]
    )
    error = await other.receive_type("error")
    assert (error["code"], error["client_id"]) == ("not_found", stolen_id)
    await owner.send(
        type="message.send",
        client_id=str(uuid.uuid4()),
        body="x",
        attachment=uploaded["id"],
    )
    await owner.receive_type("ack")
    await owner.send(
        type="message.send",
        client_id=str(uuid.uuid4()),
        body="y",
        attachment=uploaded["id"],
    )
    assert (await owner.receive_type("error"))["code"] == "not_found"


async def test_only_the_threads_visitor_and_operators_can_fetch_a_file(
    connect_visitor, make_operator
):
    owner = await connect_visitor()
    client = await sync_to_async(visitor_client)(owner.cookie)
    url = (await sync_to_async(upload)(client, "a.png", png())).json()["url"]

    def fetch(cookie: str | None = None, user=None):
        other = Client()
        if cookie:
            other.cookies["sessionid"] = cookie
        if user:
            other.force_login(user)
        return other.get(url)

    mine = await sync_to_async(fetch)(owner.cookie)
    assert mine.status_code == 200
    assert mine["Content-Type"] == "image/png"
    assert mine["X-Content-Type-Options"] == "nosniff"
    stranger = await connect_visitor()
    assert (await sync_to_async(fetch)(stranger.cookie)).status_code == 404
    assert (await sync_to_async(fetch)()).status_code == 404
    operator = await make_operator()
    assert (await sync_to_async(fetch)(user=operator)).status_code == 200


async def test_pdf_is_served_as_a_download(connect_visitor):
    owner = await connect_visitor()
    client = await sync_to_async(visitor_client)(owner.cookie)
    body = await sync_to_async(upload)(client, "invoice.pdf", b"%PDF-1.7\n" + b"0" * 50)
    response = await sync_to_async(client.get)(body.json()["url"])
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/pdf"


async def test_refused_uploads_store_nothing(connect_visitor, settings):
    visitor = await connect_visitor()
    client = await sync_to_async(visitor_client)(visitor.cookie)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = await sync_to_async(upload)(client, "x.svg", svg)
    assert (response.status_code, response.json()["error"]["code"]) == (
        415,
        "unsupported_type",
    )
    html = await sync_to_async(upload)(client, "cat.png", b"<html><script>x</script>")
    assert html.status_code == 415
    settings.SOHBET_MAX_UPLOAD_BYTES = 100
    big = await sync_to_async(upload)(client, "big.png", png((300, 300)))
    assert big.status_code == 413
    assert await database_sync_to_async(Attachment.objects.count)() == 0


async def test_two_files_in_one_request_are_refused(connect_visitor):
    visitor = await connect_visitor()
    client = await sync_to_async(visitor_client)(visitor.cookie)

    def post_two():
        return client.post(
            "/api/uploads/",
            {
                "file": SimpleUploadedFile("a.png", png()),
                "other": SimpleUploadedFile("b.png", png()),
            },
            HTTP_X_CSRFTOKEN=client.csrf,
        )

    assert (await sync_to_async(post_two)()).status_code == 400
    assert await database_sync_to_async(Attachment.objects.count)() == 0


async def test_uploads_need_the_csrf_token(connect_visitor):
    visitor = await connect_visitor()
    client = await sync_to_async(visitor_client)(visitor.cookie)

    def post_without_token():
        return client.post(
            "/api/uploads/", {"file": SimpleUploadedFile("a.png", png())}
        )

    assert (await sync_to_async(post_without_token)()).status_code == 403


async def test_hourly_upload_limit_per_visitor(connect_visitor, settings):
    settings.SOHBET_UPLOADS_PER_HOUR = 2
    visitor = await connect_visitor()
    client = await sync_to_async(visitor_client)(visitor.cookie)
    codes = [
        (await sync_to_async(upload)(client, f"{n}.png", png())).status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]


async def test_a_new_session_from_the_same_address_gets_no_fresh_quota(
    connect_visitor, settings
):
    settings.SOHBET_ADDRESS_UPLOADS_PER_HOUR = 2
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"

    def upload_from(client: Client, address: str) -> Any:
        return client.post(
            "/api/uploads/",
            {"file": SimpleUploadedFile("a.png", png())},
            HTTP_X_CSRFTOKEN=client.csrf,  # type: ignore[attr-defined]
            HTTP_X_FORWARDED_FOR=address,
        )

    first = await sync_to_async(visitor_client)((await connect_visitor()).cookie)
    for n in range(2):
        sent = await sync_to_async(upload_from)(first, f"2001:db8:5:6::{n + 1}")
        assert sent.status_code == 201
    # One more GET / (a new session, a new visitor) from the same /64.
    second = await sync_to_async(visitor_client)((await connect_visitor()).cookie)
    refused = await sync_to_async(upload_from)(second, "2001:db8:5:6::99")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    accepted = await sync_to_async(upload_from)(second, "2001:db8:5:7::1")
    assert accepted.status_code == 201


async def test_the_daily_quota_counts_every_thread_of_the_visitor(
    connect_visitor, settings
):
    settings.SOHBET_UPLOAD_BYTES_PER_DAY = len(png()) + 1
    visitor = await connect_visitor()
    client = await sync_to_async(visitor_client)(visitor.cookie)
    assert (await sync_to_async(upload)(client, "a.png", png())).status_code == 201
    # A new thread of the same visitor (the old one closed and purged, say).
    await database_sync_to_async(_new_thread_for)(visitor.hello["visitor"]["id"])
    assert (await sync_to_async(upload)(client, "b.png", png())).status_code == 201
    refused = await sync_to_async(upload)(client, "c.png", png())
    assert refused.json()["error"]["code"] == "quota_exceeded"


def _new_thread_for(visitor_id: int) -> None:
    from chat.models import Thread

    Thread.objects.create(visitor_id=visitor_id)


async def test_unsent_uploads_are_cleaned_up_after_a_day(connect_visitor):
    import datetime as dt

    from chat.services import delete_unsent_attachments

    visitor = await connect_visitor()
    client = await sync_to_async(visitor_client)(visitor.cookie)
    uploaded = (await sync_to_async(upload)(client, "a.png", png())).json()

    def age_and_clean() -> tuple[int, bool]:
        attachment = Attachment.objects.get(pk=uploaded["id"])
        path = attachment.file.path
        Attachment.objects.filter(pk=attachment.pk).update(
            created_at=attachment.created_at - dt.timedelta(days=2)
        )
        removed = delete_unsent_attachments(older_than=dt.timedelta(days=1))
        import os

        return removed, os.path.exists(path)

    assert await database_sync_to_async(age_and_clean)() == (1, False)
    assert await database_sync_to_async(Message.objects.count)() == 0


async def test_erasing_a_visitor_removes_their_files(connect_visitor):
    import os

    from chat.services import erase_visitor

    visitor = await connect_visitor()
    client = await sync_to_async(visitor_client)(visitor.cookie)
    uploaded = (await sync_to_async(upload)(client, "a.png", png())).json()
    await visitor.send(
        type="message.send",
        client_id=str(uuid.uuid4()),
        body="",
        attachment=uploaded["id"],
    )
    await visitor.receive_type("ack")

    def erase() -> bool:
        path = Attachment.objects.get(pk=uploaded["id"]).file.path
        assert os.path.exists(path)
        erase_visitor(visitor_id=visitor.hello["visitor"]["id"])
        return os.path.exists(path)

    assert await database_sync_to_async(erase)() is False
    assert await database_sync_to_async(Attachment.objects.count)() == 0


async def test_media_players_get_the_byte_ranges_they_ask_for(connect_visitor):
    """Safari plays a voice note only from a server that answers Range requests."""
    owner = await connect_visitor()
    client = await sync_to_async(visitor_client)(owner.cookie)
    data = b"%PDF-1.7\n" + bytes(range(256)) * 4
    url = (await sync_to_async(upload)(client, "notes.pdf", data)).json()["url"]
    stored = await sync_to_async(lambda: Attachment.objects.get().file.read())()

    def get(**headers: str):
        return client.get(url, headers=headers)

    whole = await sync_to_async(get)()
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == stored
    first_two = await sync_to_async(get)(Range="bytes=0-1")
    assert first_two.status_code == 206
    assert first_two["Content-Range"] == f"bytes 0-1/{len(stored)}"
    assert first_two.content == stored[:2]
    assert first_two["Content-Disposition"].startswith("attachment")
    assert first_two["X-Content-Type-Options"] == "nosniff"
    middle = await sync_to_async(get)(Range="bytes=100-")
    assert middle.content == stored[100:]
    assert middle["Content-Range"] == f"bytes 100-{len(stored) - 1}/{len(stored)}"
    tail = await sync_to_async(get)(Range="bytes=-10")
    assert tail.content == stored[-10:]
    beyond = await sync_to_async(get)(Range=f"bytes={len(stored)}-")
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(stored)}"
    several = await sync_to_async(get)(Range="bytes=0-1,5-6")
    assert several.status_code == 200
    stranger = await connect_visitor()
    other = Client()
    other.cookies["sessionid"] = stranger.cookie
    refused = await sync_to_async(other.get)(url, headers={"Range": "bytes=0-1"})
    assert refused.status_code == 404
