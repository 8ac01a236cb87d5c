"""Bad input gets a clear error and changes nothing; refusals use the protocol codes."""

from __future__ import annotations

import json
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.test import Client

from chat.models import Message, Visitor
from tests.conftest import open_socket

pytestmark = pytest.mark.django_db(transaction=True)
# Parameters are the tests' names: the same in every pytest-xdist worker.
FIXED_CLIENT_ID = "00000000-0000-4000-8000-000000000001"


@database_sync_to_async
def message_count() -> int:
    return Message.objects.count()


@pytest.mark.parametrize(
    "frame, code",
    [
        ("not json", "invalid"),
        ("[1, 2]", "invalid"),
        (json.dumps({"type": "launch.missiles"}), "invalid"),
        (
            json.dumps({"type": "message.send", "client_id": "nope", "body": "x"}),
            "invalid",
        ),
        (
            json.dumps(
                {"type": "message.send", "client_id": FIXED_CLIENT_ID, "body": "   "}
            ),
            "invalid",
        ),
        (
            json.dumps(
                {"type": "message.send", "client_id": FIXED_CLIENT_ID, "body": 5}
            ),
            "invalid",
        ),
        (
            json.dumps(
                {
                    "type": "message.send",
                    "client_id": FIXED_CLIENT_ID,
                    "body": "x" * 4001,
                }
            ),
            "too_long",
        ),
        (json.dumps({"type": "sync", "after": "0"}), "invalid"),
        (json.dumps({"type": "sync", "after": True}), "invalid"),
        (json.dumps({"type": "history", "before": None, "limit": 1000}), "invalid"),
        (json.dumps({"type": "thread.close", "thread": 1}), "invalid"),
        # Nested deeper than the JSON parser goes (a RecursionError), within the
        # frame limit.
        ('{"type":"ping","x":' + "[" * 8000 + "]" * 8000 + "}", "invalid"),
    ],
)
async def test_bad_frame_gets_an_error_and_the_socket_stays_usable(
    connect_visitor, frame, code
):
    visitor = await connect_visitor()
    await visitor.send_raw(frame)
    error = await visitor.receive_type("error")
    assert error["code"] == code
    assert error["detail"]
    assert await message_count() == 0
    await visitor.send(type="ping")
    assert (await visitor.receive_type("pong"))["type"] == "pong"


async def test_oversized_frame_is_refused(connect_visitor):
    visitor = await connect_visitor()
    await visitor.send_raw(json.dumps({"type": "ping", "pad": "x" * 20000}))
    assert (await visitor.receive_type("error"))["code"] == "too_long"


async def test_error_about_a_message_names_its_client_id(connect_visitor):
    visitor = await connect_visitor()
    client_id = str(uuid.uuid4())
    await visitor.send(type="message.send", client_id=client_id, body="x" * 5000)
    error = await visitor.receive_type("error")
    assert error["client_id"] == client_id


async def test_a_flood_is_rate_limited_then_closed_with_4429(connect_visitor, settings):
    settings.SOHBET_WS_RATE = "5/60"
    settings.SOHBET_WS_FLOOD = "10/60"
    visitor = await connect_visitor()
    for _ in range(12):
        await visitor.send(type="ping")
    kinds = []
    while True:
        output = await visitor.communicator.receive_output(5)
        if output["type"] == "websocket.close":
            code = output["code"]
            break
        kinds.append(
            json.loads(output["text"]).get("code") or json.loads(output["text"])["type"]
        )
    assert kinds.count("pong") == 5
    assert "rate_limited" in kinds
    assert code == 4429


async def test_a_senders_limit_holds_across_its_sockets_and_stores_nothing_over_it(
    connect_visitor, settings
):
    # Two tabs of one visitor post at once: the per-sender limit counts them
    # together; each post over it gets rate_limited with its client_id, and only the
    # posts within it are stored.
    settings.SOHBET_SEND_RATE = "3/60"
    first = await connect_visitor()
    second = await connect_visitor(first.cookie)
    sent = {}
    for index in range(6):
        client_id = str(uuid.uuid4())
        sent[client_id] = first if index % 2 else second
        await sent[client_id].send(type="message.send", client_id=client_id, body="hi")
    answers = {}
    for socket in (first, second):
        for _ in range(3):
            answer = await socket.receive_type("ack", "error")
            answers[answer["client_id"]] = answer
    assert set(answers) == set(sent)
    acked = [a for a in answers.values() if a["type"] == "ack"]
    refused = [a for a in answers.values() if a["type"] == "error"]
    assert len(acked) == 3
    assert {a["code"] for a in refused} == {"rate_limited"}
    assert len(refused) == 3
    assert await message_count() == 3
    assert sorted(a["seq"] for a in acked) == [1, 2, 3]


async def test_foreign_origin_is_closed_with_4403_and_creates_nothing():
    cookie = await sync_to_async(lambda: Client().get("/").cookies["sessionid"].value)()
    socket, connected = await open_socket(
        "/ws/chat/", cookie=cookie, origin=(b"origin", b"https://evil.example")
    )
    assert connected
    assert await socket.receive_close() == 4403
    assert await database_sync_to_async(Visitor.objects.count)() == 0


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:8001",  # another port on the same host
        "https://localhost",  # another scheme
        "http://localhost.evil.example",
        "null",
    ],
)
async def test_an_origin_that_differs_in_scheme_host_or_port_is_closed_with_4403(
    origin,
):
    cookie = await sync_to_async(lambda: Client().get("/").cookies["sessionid"].value)()
    socket, _ = await open_socket(
        "/ws/chat/", cookie=cookie, origin=(b"origin", origin.encode())
    )
    assert await socket.receive_close() == 4403
    assert await database_sync_to_async(Visitor.objects.count)() == 0


async def test_a_csrf_trusted_origin_may_open_a_socket(connect_visitor, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com"]
    cookie = await sync_to_async(lambda: Client().get("/").cookies["sessionid"].value)()
    socket, _ = await open_socket(
        "/ws/chat/", cookie=cookie, origin=(b"origin", b"https://www.example.com")
    )
    assert (await socket.receive_type("hello"))["type"] == "hello"
    await socket.close()


async def test_behind_a_tls_proxy_the_origin_is_https(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    cookie = await sync_to_async(lambda: Client().get("/").cookies["sessionid"].value)()
    proto = [(b"x-forwarded-proto", b"https")]
    socket, _ = await open_socket(
        "/ws/chat/",
        cookie=cookie,
        origin=(b"origin", b"https://localhost"),
        extra_headers=proto,
    )
    assert (await socket.receive_type("hello"))["type"] == "hello"
    await socket.close()
    plain, _ = await open_socket(
        "/ws/chat/",
        cookie=cookie,
        origin=(b"origin", b"http://localhost"),
        extra_headers=proto,
    )
    assert await plain.receive_close() == 4403


async def test_a_forwarded_scheme_from_an_untrusted_peer_is_not_believed(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = ["192.0.2.1"]  # the test client is no such peer
    cookie = await sync_to_async(lambda: Client().get("/").cookies["sessionid"].value)()
    socket, _ = await open_socket(
        "/ws/chat/",
        cookie=cookie,
        origin=(b"origin", b"https://localhost"),
        extra_headers=[(b"x-forwarded-proto", b"https")],
    )
    assert await socket.receive_close() == 4403


async def test_visitor_socket_without_session_is_closed_with_4401():
    socket, connected = await open_socket("/ws/chat/", cookie=None)
    assert connected
    assert await socket.receive_close() == 4401
    assert await database_sync_to_async(Visitor.objects.count)() == 0


async def test_operator_socket_needs_a_staff_session(make_operator, connect_visitor):
    visitor = await connect_visitor()
    socket, _ = await open_socket("/ws/operator/", cookie=visitor.cookie)
    assert await socket.receive_close() == 4401
    user = await make_operator("notstaff", is_staff=False)

    @sync_to_async
    def login_cookie() -> str:
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    socket, _ = await open_socket("/ws/operator/", cookie=await login_cookie())
    assert await socket.receive_close() == 4401


async def test_operator_socket_is_closed_when_the_session_logs_out(make_operator):
    user = await make_operator()
    client = Client()
    await sync_to_async(client.force_login)(user)
    socket, _ = await open_socket(
        "/ws/operator/", cookie=client.cookies["sessionid"].value
    )
    await socket.receive_type("hello")
    await sync_to_async(client.post)("/admin/logout/")
    assert await socket.receive_close() == 4403
