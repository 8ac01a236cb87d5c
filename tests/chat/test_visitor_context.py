"""What a visitor's page tells of them (``visitor.context``) reaches the operators:
with the conversation's rows when it came before the first message, live after;
refused frames change nothing; visits are counted; ``visitor.info`` answers."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone

from chat import services
from chat.models import Visitor
from tests.conftest import Socket

pytestmark = pytest.mark.django_db(transaction=True)

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/120.0.0.0 Safari/537.36"
)


@pytest.fixture(autouse=True)
def _quick_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    # The coalescing delays, short: the tests wait for their effect, bounded.
    monkeypatch.setattr("chat.consumers.context.WRITE_DELAY", 0.05)
    monkeypatch.setattr("chat.consumers.context.WRITE_EVERY", 0.2)


def new_id() -> str:
    return str(uuid.uuid4())


@sync_to_async
def stored(visitor_id: int) -> Visitor | None:
    return Visitor.objects.filter(pk=visitor_id).first()


async def eventually_stored(visitor_id: int, **expected: Any) -> Visitor:
    """The visitor's row once it holds ``expected`` (within 5 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while True:
        visitor = await stored(visitor_id)
        if visitor is not None and all(
            getattr(visitor, k) == v for k, v in expected.items()
        ):
            return visitor
        if loop.time() > deadline:
            raise AssertionError(f"visitor {visitor_id} never held {expected}")
        await asyncio.sleep(0.02)


async def visitor_frame(operator: Socket, **expected: Any) -> dict[str, Any]:
    """The next ``visitor`` frame that says ``expected`` (others are skipped)."""
    while True:
        frame = await operator.receive_type("visitor")
        if all(frame["visitor"].get(k) == v for k, v in expected.items()):
            return frame["visitor"]


async def test_context_before_the_first_message_is_written_with_the_conversation(
    connect_visitor: Any,
) -> None:
    visitor = await connect_visitor()
    visitor_id = visitor.hello["visitor"]["id"]
    await visitor.send(
        type="visitor.context",
        url="https://shop.example/pricing",
        title="Pricing",
        referrer="https://www.google.com/",
        timezone="Europe/Istanbul",
        language="tr-TR",
        attributes={"plan": "pro", "seats": 3},
    )
    await visitor.send(type="message.send", client_id=new_id(), body="hello")
    await visitor.receive_type("ack")
    if connection.vendor == "postgresql":  # lazy rows: written with the message
        row = await stored(visitor_id)
        assert row is not None and row.last_page == "https://shop.example/pricing"
    row = await eventually_stored(visitor_id, last_page="https://shop.example/pricing")
    assert (row.page_title, row.referrer, row.time_zone, row.language) == (
        "Pricing",
        "https://www.google.com/",
        "Europe/Istanbul",
        "tr-TR",
    )
    assert row.attributes == '{"plan":"pro","seats":3}'
    assert row.visits == 1


async def test_a_page_change_after_the_first_message_reaches_the_operators(
    connect_visitor: Any, connect_operator: Any
) -> None:
    operator = await connect_operator()
    visitor = await connect_visitor(written=True)
    await visitor.send(type="message.send", client_id=new_id(), body="hi")
    await visitor.receive_type("ack")
    await visitor.send(
        type="visitor.context", url="https://shop.example/a", title="Page A"
    )
    seen = await visitor_frame(operator, url="https://shop.example/a")
    assert (seen["id"], seen["title"]) == (visitor.hello["visitor"]["id"], "Page A")
    await visitor.send(
        type="visitor.context", url="https://shop.example/b", title="Page B"
    )
    seen = await visitor_frame(operator, url="https://shop.example/b")
    assert seen["title"] == "Page B"
    assert [t["id"] for t in seen["threads"]] == [visitor.hello["thread"]["id"]]
    await eventually_stored(seen["id"], last_page="https://shop.example/b")


async def test_pages_clicked_through_quickly_are_written_once_with_the_last(
    connect_visitor: Any, connect_operator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chat.consumers.context.WRITE_DELAY", 0.3)
    operator = await connect_operator()
    visitor = await connect_visitor(written=True)
    for n in range(5):
        await visitor.send(type="visitor.context", url=f"https://shop.example/{n}")
    seen = await operator.receive_type("visitor")
    assert seen["visitor"]["url"] == "https://shop.example/4"
    assert await operator.nothing_more()


async def test_a_refused_context_changes_nothing(
    connect_visitor: Any, connect_operator: Any
) -> None:
    operator = await connect_operator()
    visitor = await connect_visitor(written=True)
    visitor_id = visitor.hello["visitor"]["id"]
    await visitor.send(
        type="visitor.context",
        url="https://shop.example/ok",
        attributes={f"k{n}": n for n in range(20)},
    )
    await visitor_frame(operator, url="https://shop.example/ok")
    refusals = [
        {"url": "https://shop.example/" + "x" * 500},
        {"url": "javascript:alert(1)", "title": "T"},
        {"title": "t" * 201, "url": "https://shop.example/other"},
        {"attributes": {"one_more": 1}},  # 21 once merged
        {"attributes": {"k0": {"nested": True}}},
        {"timezone": "Nowhere/Else"},
    ]
    for frame in refusals:
        await visitor.send(type="visitor.context", **frame)
        error = await visitor.receive_type("error")
        assert error["code"] in ("invalid", "too_long") and error["detail"]
        assert error["frame"] == "visitor.context"
    assert await operator.nothing_more()
    row = await stored(visitor_id)
    assert row is not None
    assert (row.last_page, row.page_title, row.time_zone) == (
        "https://shop.example/ok",
        "",
        "",
    )
    # The socket is still usable.
    await visitor.send(type="visitor.context", attributes={"k0": None})
    seen = await visitor_frame(operator)
    assert "k0" not in seen["attributes"] and len(seen["attributes"]) == 19


async def test_the_same_context_again_writes_nothing(
    connect_visitor: Any, connect_operator: Any
) -> None:
    operator = await connect_operator()
    visitor = await connect_visitor(written=True)
    context = {"url": "https://shop.example/", "attributes": {"plan": "pro"}}
    await visitor.send(type="visitor.context", **context)
    await visitor_frame(operator, url="https://shop.example/")
    await visitor.send(type="visitor.context", **context)
    again = await connect_visitor(visitor.cookie)  # a new page of the same session
    await again.send(type="visitor.context", **context)
    assert await operator.nothing_more()


async def test_an_operator_asks_who_the_visitor_is(
    connect_visitor: Any, connect_operator: Any
) -> None:
    operator = await connect_operator()
    visitor = await connect_visitor()
    await visitor.send(
        type="visitor.context",
        url="https://shop.example/",
        timezone="America/New_York",
    )
    await visitor.send(type="message.send", client_id=new_id(), body="hi")
    await visitor.receive_type("ack")
    thread = visitor.hello["thread"]["id"]
    visitor_id = visitor.hello["visitor"]["id"]
    await eventually_stored(visitor_id, time_zone="America/New_York")
    await sync_to_async(Visitor.objects.filter(pk=visitor_id).update)(
        user_agent=CHROME, external_id="u-42", identity_verified=True
    )
    await operator.send(type="visitor.info", thread=thread)
    frame = await operator.receive_type("visitor")
    while "thread" not in frame:  # a live one, from the visitor's page: skipped
        frame = await operator.receive_type("visitor")
    info = frame["visitor"]
    assert frame["thread"] == thread
    assert (info["browser"], info["os"]) == ("Chrome 120", "Windows 10/11")
    assert (info["user_id"], info["identity_verified"]) == ("u-42", True)
    assert (info["url"], info["timezone"], info["visits"]) == (
        "https://shop.example/",
        "America/New_York",
        1,
    )
    assert [t["id"] for t in info["threads"]] == [thread]
    assert info["threads"][0]["admin_url"].endswith(f"/chat/thread/{thread}/change/")
    await operator.send(type="visitor.info", thread=thread + 1000)
    assert (await operator.receive_type("error"))["code"] == "not_found"


async def test_visitors_cannot_ask_who_a_visitor_is(connect_visitor: Any) -> None:
    visitor = await connect_visitor()
    await visitor.send(type="visitor.info", thread=visitor.hello["thread"]["id"])
    assert (await visitor.receive_type("error"))["code"] == "invalid"


def _back_after(minutes: int) -> None:
    then = timezone.now() - dt.timedelta(minutes=minutes)
    Visitor.objects.update(last_seen_at=then)


async def test_a_visitor_back_after_half_an_hour_is_on_a_new_visit(
    connect_visitor: Any,
) -> None:
    visitor = await connect_visitor(written=True)
    visitor_id = visitor.hello["visitor"]["id"]
    await sync_to_async(_back_after)(10)
    await connect_visitor(visitor.cookie)
    assert (await eventually_stored(visitor_id)).visits == 1
    await sync_to_async(_back_after)(31)
    await connect_visitor(visitor.cookie)
    assert (await eventually_stored(visitor_id)).visits == 2


async def test_the_country_is_believed_only_from_the_trusted_proxy(
    settings: Any, sockets: list[Socket], connect_visitor: Any
) -> None:
    from channels.testing import WebsocketCommunicator

    from chatsite.asgi import application

    settings.SOHBET_COUNTRY_HEADER = "CF-IPCountry"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    first = await connect_visitor(written=True)
    visitor_id = first.hello["visitor"]["id"]
    cookie = f"{settings.SESSION_COOKIE_NAME}={first.cookie}".encode()
    for peer, country in (("203.0.113.9", "de"), ("10.1.2.3", "tr")):
        communicator = WebsocketCommunicator(
            application,
            "/ws/chat/",
            headers=[
                (b"host", b"localhost"),
                (b"origin", b"http://localhost"),
                (b"cookie", cookie),
                (b"cf-ipcountry", country.encode()),
            ],
        )
        communicator.scope["client"] = (peer, 40000)
        connected, _ = await communicator.connect(timeout=10)
        assert connected
        socket = Socket(communicator)
        sockets.append(socket)
        await socket.receive_type("hello")
        expected = "TR" if peer.startswith("10.") else ""
        assert (await stored(visitor_id)).country == expected  # type: ignore[union-attr]


def test_touching_a_visitor_counts_a_visit_only_after_the_gap() -> None:
    visitor, _thread = services.start_visitor(session_key="v" * 32)
    services.touch_visitor(visitor_id=visitor.pk, country="NL")
    visitor.refresh_from_db()
    assert (visitor.visits, visitor.country) == (1, "NL")
    _back_after(45)
    services.touch_visitor(visitor_id=visitor.pk)
    visitor.refresh_from_db()
    assert (visitor.visits, visitor.country) == (2, "NL")
