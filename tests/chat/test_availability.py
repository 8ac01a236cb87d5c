"""Whether the team is there, through the real ASGI application: the business hours
a visitor's page is told, the automatic reply when a conversation starts while
nobody is there (stored once, delivered like any message), and the operators' away
switch."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from chat import availability, services
from chat.models import Message, OutboxEntry
from tests.conftest import open_socket

pytestmark = pytest.mark.django_db(transaction=True)

ALWAYS = {str(day): [["00:00", "00:00"]] for day in range(7)}


@database_sync_to_async
def set_hours(**values: Any) -> None:
    base: dict[str, Any] = {"enabled": False, "auto_reply_enabled": True}
    services.update_business_hours(values={**base, **values})


@database_sync_to_async
def stored(thread_id: int) -> list[tuple[int, str, str]]:
    return list(
        Message.objects.filter(thread_id=thread_id)
        .order_by("seq")
        .values_list("seq", "author", "body")
    )


async def send(
    socket: Any, body: str, client_id: str | None = None, *, resend: bool = False
) -> dict[str, Any]:
    """Post, and take the ack and (unless it is a resend) the message's own copy."""
    client_id = client_id or str(uuid.uuid4())
    await socket.send(type="message.send", client_id=client_id, body=body)
    ack = await socket.receive_type("ack")
    while not resend:
        frame = await socket.receive_type("message")
        if frame["message"]["client_id"] == client_id:
            break
    return ack


async def next_system_message(socket: Any) -> dict[str, Any]:
    while True:
        frame = await socket.receive_type("message")
        if frame["message"]["author"] == "system":
            return frame["message"]


async def test_a_conversation_started_with_nobody_online_gets_the_automatic_reply(
    connect_visitor,
):
    await set_hours(auto_reply_en="We are away; we will answer here.")
    visitor = await connect_visitor()
    ack = await send(visitor, "Hello?")
    reply = await next_system_message(visitor)
    assert (reply["seq"], reply["body"]) == (2, "We are away; we will answer here.")
    assert await stored(ack["thread"]) == [
        (1, "visitor", "Hello?"),
        (2, "system", "We are away; we will answer here."),
    ]


async def test_the_automatic_reply_is_sent_once_per_conversation_start(
    connect_visitor,
):
    await set_hours()
    visitor = await connect_visitor()
    first = str(uuid.uuid4())
    ack = await send(visitor, "Hello?", first)
    await next_system_message(visitor)
    await send(visitor, "Hello?", first, resend=True)
    await send(visitor, "Anyone there?")
    assert await visitor.hears_no_message_again()
    authors = [author for _seq, author, _body in await stored(ack["thread"])]
    assert authors == ["visitor", "system", "visitor"]


@override_settings(SOHBET_OUTBOX_CHANNELS=["telegram"])
async def test_the_automatic_reply_goes_to_telegram_like_any_message(connect_visitor):
    await set_hours()
    visitor = await connect_visitor()
    ack = await send(visitor, "Hello?")
    reply = await next_system_message(visitor)
    queued = await database_sync_to_async(
        lambda: list(
            OutboxEntry.objects.filter(thread_id=ack["thread"])
            .order_by("pk")
            .values_list("message_id", flat=True)
        )
    )()
    assert queued == [ack["id"], reply["id"]]


async def test_no_automatic_reply_when_an_operator_is_there(
    connect_visitor, connect_operator
):
    await set_hours()
    await connect_operator()
    visitor = await connect_visitor()
    assert visitor.hello["operators_online"] is True
    ack = await send(visitor, "Hello?")
    assert await visitor.hears_no_message_again()
    assert [a for _s, a, _b in await stored(ack["thread"])] == ["visitor"]


async def test_outside_the_hours_the_reply_comes_even_with_an_operator_online(
    connect_visitor, connect_operator
):
    await set_hours(enabled=True, time_zone="Europe/Istanbul", weekly={})
    await connect_operator()
    visitor = await connect_visitor()
    await send(visitor, "Hello?")
    assert (await next_system_message(visitor))["seq"] == 2


async def test_no_automatic_reply_when_it_is_switched_off(connect_visitor):
    await set_hours(auto_reply_enabled=False)
    visitor = await connect_visitor()
    ack = await send(visitor, "Hello?")
    assert await visitor.hears_no_message_again()
    assert len(await stored(ack["thread"])) == 1


async def test_writing_again_after_the_close_is_a_new_start(
    connect_visitor, connect_operator
):
    await set_hours()
    visitor = await connect_visitor()
    ack = await send(visitor, "Hello?")
    await next_system_message(visitor)
    await database_sync_to_async(services.close_thread)(thread_id=ack["thread"])
    await send(visitor, "Me again")
    assert (await next_system_message(visitor))["seq"] == 4
    authors = [a for _s, a, _b in await stored(ack["thread"])]
    assert authors == ["visitor", "system", "visitor", "system"]


async def test_the_automatic_reply_is_in_the_visitors_language():
    await set_hours(auto_reply_tr="Şu an buradayız değil; burada yanıtlayacağız.")
    from tests.conftest import _visitor_cookie

    cookie = await _visitor_cookie()
    socket, connected = await open_socket(
        "/ws/chat/", cookie=cookie, extra_headers=[(b"accept-language", b"tr-TR")]
    )
    assert connected
    try:
        await socket.receive_type("hello")
        await send(socket, "Merhaba")
        reply = await next_system_message(socket)
        assert reply["body"] == "Şu an buradayız değil; burada yanıtlayacağız."
    finally:
        await socket.close()


async def test_the_page_is_told_the_hours_and_their_changes(connect_visitor):
    visitor = await connect_visitor()
    assert visitor.hello["hours"] is None  # not used: always open
    await set_hours(enabled=True, time_zone="Europe/Istanbul", weekly=ALWAYS)
    changed = await visitor.receive_type("hours")
    [[opens, closes]] = changed["hours"][:1]
    assert opens < closes and opens.endswith("Z")
    again = await connect_visitor()
    assert again.hello["hours"] == changed["hours"]


async def test_an_away_operator_is_not_someone_there(connect_visitor, connect_operator):
    visitor = await connect_visitor()
    operator = await connect_operator()
    assert (await visitor.receive_type("presence"))["operators_online"] is True
    await operator.send(type="operator.away", away=True)
    assert (await operator.receive_type("away"))["away"] is True
    assert (await visitor.receive_type("presence"))["operators_online"] is False
    await operator.send(type="operator.away", away=False)
    assert (await visitor.receive_type("presence"))["operators_online"] is True


async def test_colleagues_see_who_is_away(connect_operator, make_operator):
    ayse = await connect_operator()
    mehmet = await connect_operator(await make_operator("mehmet"))
    team = {m["name"]: m["status"] for m in mehmet.hello["team"]}
    assert team == {"ayse": "online", "mehmet": "online"}
    await ayse.send(type="operator.away", away=True)
    told = await mehmet.receive_type("team")
    assert (told["operator"]["name"], told["operator"]["status"]) == ("ayse", "away")


async def test_an_away_operator_stays_away_in_a_new_tab(
    connect_visitor, connect_operator
):
    operator = await connect_operator()
    await operator.send(type="operator.away", away=True)
    await operator.receive_type("away")
    second_tab = await connect_operator(operator.user)
    assert second_tab.hello["away"] is True
    visitor = await connect_visitor()
    assert visitor.hello["operators_online"] is False


async def test_away_must_be_true_or_false(connect_operator):
    operator = await connect_operator()
    await operator.send(type="operator.away", away="yes")
    error = await operator.receive_type("error")
    assert error["code"] == "invalid"


@database_sync_to_async
def payload_at(now: dt.datetime) -> Any:
    return availability.hours_payload(now=now)


async def test_the_hours_told_are_the_next_intervals_in_utc():
    await set_hours(
        enabled=True,
        time_zone="Europe/Istanbul",
        weekly={"0": [["09:00", "17:00"]]},  # Mondays
        holidays=[["2026-12-14", "A holiday"]],
    )
    told = await payload_at(dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC))
    assert told[:2] == [
        ["2026-12-07T06:00:00Z", "2026-12-07T14:00:00Z"],
        ["2026-12-21T06:00:00Z", "2026-12-21T14:00:00Z"],  # the 14th is a holiday
    ]
