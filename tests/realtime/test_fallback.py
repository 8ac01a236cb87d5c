"""The HTTP fallback transport (realtime.fallback): the same consumers and the same
guarantees as the WebSocket, for clients whose socket cannot get through."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from channels.db import database_sync_to_async

from chat.models import Message
from tests.conftest import _visitor_cookie, store_burst
from tests.realtime.fallback_client import HttpStream, request

pytestmark = pytest.mark.django_db(transaction=True)


def new_id() -> str:
    return str(uuid.uuid4())


@database_sync_to_async
def stored(thread_id: int) -> list[tuple[int, str]]:
    return list(
        Message.objects.filter(thread_id=thread_id)
        .order_by("seq")
        .values_list("seq", "body")
    )


@pytest.fixture
async def streams() -> AsyncIterator[list[HttpStream]]:
    opened: list[HttpStream] = []
    yield opened
    for stream in opened:
        await stream.close()


@pytest.fixture
def open_stream(
    streams: list[HttpStream],
) -> Callable[..., Awaitable[HttpStream]]:
    """A visitor's fallback stream (a new browser session unless ``cookie``), once
    it said hello."""

    async def open_(cookie: str | None = None, *, written: bool = False) -> HttpStream:
        stream = HttpStream(cookie or await _visitor_cookie(written))
        streams.append(stream)
        await stream.open()
        assert stream.status == 200
        stream.hello = await stream.receive_type("hello")
        return stream

    return open_


async def test_a_message_sent_over_http_is_acked_after_it_is_stored(open_stream):
    visitor = await open_stream()
    assert visitor.opened["max_frames"] >= 1
    client_id = new_id()
    await visitor.send(type="message.send", client_id=client_id, body="Merhaba")
    ack = await visitor.receive_type("ack")
    assert (ack["client_id"], ack["seq"]) == (client_id, 1)
    assert await stored(visitor.hello["thread"]["id"]) == [(1, "Merhaba")]


async def test_a_resent_client_id_over_http_is_stored_once(open_stream):
    visitor = await open_stream()
    client_id = new_id()
    frame = {"type": "message.send", "client_id": client_id, "body": "once"}
    await visitor.send(**frame)
    first = await visitor.receive_type("ack")
    await visitor.send(**frame)
    second = await visitor.receive_type("ack")
    assert second["id"] == first["id"]
    assert await stored(visitor.hello["thread"]["id"]) == [(1, "once")]


async def test_a_retried_post_is_handled_once(open_stream):
    visitor = await open_stream()
    status, _ = await visitor.post({"type": "ping"}, number=1)
    assert status == 204
    # Its answer was lost on the way, say: the client posts it again.
    status, _ = await visitor.post({"type": "ping"}, number=1)
    assert status == 204
    await visitor.post({"type": "ping"}, number=2)
    assert await visitor.receive_type("pong")
    assert await visitor.receive_type("pong")
    with pytest.raises(AssertionError, match="no event"):
        await visitor.receive_type("pong", timeout=0.3)


async def test_posts_that_arrive_out_of_order_are_handled_in_order(open_stream):
    visitor = await open_stream()
    ids = [new_id() for _ in range(3)]
    frames = [
        {"type": "message.send", "client_id": cid, "body": f"m{n}"}
        for n, cid in enumerate(ids)
    ]
    # The second and third posts overtake the first (another process took it).
    assert (await visitor.post(frames[2], number=3))[0] == 204
    assert (await visitor.post(frames[1], number=2))[0] == 204
    assert (await visitor.post(frames[0], number=1))[0] == 204
    acks = [await visitor.receive_type("ack") for _ in range(3)]
    assert [a["client_id"] for a in acks] == ids
    assert await stored(visitor.hello["thread"]["id"]) == [
        (1, "m0"),
        (2, "m1"),
        (3, "m2"),
    ]


async def test_sync_over_http_returns_what_live_delivery_missed(open_stream):
    visitor = await open_stream(written=True)
    thread = visitor.hello["thread"]["id"]
    await database_sync_to_async(store_burst)(thread, 3)  # its live events lost
    await visitor.send(type="sync", after=0)
    answer = await visitor.receive_type("sync")
    assert [m["seq"] for m in answer["messages"]] == [1, 2, 3]
    assert answer["has_more"] is False


async def test_an_operator_reply_reaches_a_visitor_on_http(
    open_stream, connect_operator
):
    visitor = await open_stream(written=True)
    operator = await connect_operator()
    thread = visitor.hello["thread"]["id"]
    await operator.send(
        type="message.send", thread=thread, client_id=new_id(), body="Nasıl yardım?"
    )
    live = await visitor.receive_type("message")
    assert (live["message"]["body"], live["message"]["author"]) == (
        "Nasıl yardım?",
        "operator",
    )


async def test_a_stream_opened_from_another_origin_is_closed_with_4403(streams):
    stream = HttpStream(await _visitor_cookie())
    streams.append(stream)
    await stream.open(origin="https://evil.example")
    assert await stream.receive_close() == 4403


async def test_a_stream_without_a_session_is_closed_with_4401(streams):
    stream = HttpStream("not-a-session-key-of-anyone")
    streams.append(stream)
    await stream.open()
    assert await stream.receive_close() == 4401


async def test_a_stream_id_does_not_work_for_another_session(open_stream):
    visitor = await open_stream()
    intruder = HttpStream(await _visitor_cookie())
    intruder.opened = visitor.opened  # it learnt the id somehow
    status, answer = await intruder.post({"type": "ping"})
    assert (status, answer["error"]["code"]) == (404, "not_found")
    forged = HttpStream(visitor.cookie)
    forged.opened = {"stream": visitor.opened["stream"][:-4] + "abcd"}
    status, answer = await forged.post({"type": "ping"})
    assert (status, answer["error"]["code"]) == (404, "not_found")


async def test_frames_from_another_origin_are_refused(open_stream):
    visitor = await open_stream()
    body = json.dumps({"type": "ping"}).encode()
    status, content = await request(
        "/http/chat/frames",
        body,
        cookie=visitor.cookie,
        origin="https://evil.example",
        headers=[(b"x-sohbet-stream", visitor.opened["stream"].encode())],
    )
    assert (status, json.loads(content)["error"]["code"]) == (403, "forbidden")


async def test_too_many_frames_in_one_post_are_refused(open_stream, settings):
    settings.SOHBET_HTTP_FRAMES_PER_POST = 3
    visitor = await open_stream()
    status, answer = await visitor.post(*[{"type": "ping"}] * 4)
    assert (status, answer["error"]["code"]) == (413, "too_long")
    assert "3 frames" in answer["error"]["detail"]
    assert (await visitor.post(*[{"type": "ping"}] * 3))[0] == 204


async def test_a_post_declared_too_large_is_refused_before_it_is_read(
    open_stream, settings
):
    settings.SOHBET_HTTP_POST_BYTES = 1000
    visitor = await open_stream()
    status, answer = await visitor.post("x" * 1001)
    assert (status, answer["error"]["code"]) == (413, "too_long")


async def test_a_post_without_frames_is_invalid(open_stream):
    visitor = await open_stream()
    status, answer = await visitor.post("")
    assert (status, answer["error"]["code"]) == (400, "invalid")


async def test_a_bad_frame_gets_an_error_frame_and_the_stream_stays(open_stream):
    visitor = await open_stream()
    await visitor.post("not json", {"type": "ping"})
    error = await visitor.receive_type("error")
    assert error["code"] == "invalid"
    assert await visitor.receive_type("pong")


async def test_streams_per_session_are_capped_as_sockets_are(
    open_stream, settings, streams
):
    settings.SOHBET_WS_PER_SESSION = 2
    first = await open_stream()
    await open_stream(first.cookie)
    third = HttpStream(first.cookie)
    streams.append(third)
    await third.open()
    error = await third.receive_type("error")
    assert error["code"] == "rate_limited"
    assert await third.receive_close() == 4429


async def test_an_idle_stream_is_closed_with_4408(open_stream, settings):
    settings.SOHBET_HTTP_IDLE = 1
    visitor = await open_stream()
    assert await visitor.receive_close(timeout=5) == 4408


async def test_only_post_opens_a_stream(streams):
    cookie = await _visitor_cookie()
    status, content = await request("/http/chat/stream", cookie=cookie, method="GET")
    assert (status, json.loads(content)["error"]["code"]) == (405, "invalid")


async def test_frames_after_the_stream_ended_are_refused(open_stream):
    visitor = await open_stream()
    await visitor.close()
    status, answer = await visitor.post({"type": "ping"})
    assert (status, answer["error"]["code"]) == (404, "not_found")


async def test_refusals_are_in_the_clients_language(open_stream):
    visitor = await open_stream()
    status, content = await request(
        "/http/chat/frames",
        b'{"type":"ping"}',
        cookie=visitor.cookie,
        headers=[(b"accept-language", b"tr"), (b"x-sohbet-post", b"1")],
    )
    assert status == 404
    assert json.loads(content)["error"]["detail"] == "Bu akış sona erdi."


async def test_an_operator_connects_over_http_too(streams, make_operator):
    from tests.conftest import _operator_cookie

    operator = HttpStream(
        await _operator_cookie(await make_operator()), "/http/operator/"
    )
    streams.append(operator)
    await operator.open()
    hello = await operator.receive_type("hello")
    assert hello["role"] == "operator"


async def test_a_stream_whose_missing_post_never_comes_is_closed(open_stream):
    visitor = await open_stream()
    for number in (2, 3, 4):  # post 1 never arrives
        await visitor.post({"type": "ping"}, number=number)
    assert await visitor.receive_close() == 4503
