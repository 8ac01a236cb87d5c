"""When a service fails: Redis, PostgreSQL or a Daphne process goes away
mid-conversation and comes back; nothing is lost or duplicated and nothing needs a
restart.

The Redis and PostgreSQL that are stopped here are private to the test (see
servers.py); the Daphne processes under test are pointed at them.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import psycopg
import pytest

from tests.deploy.client import (
    Frame,
    Outbox,
    Peer,
    open_operator,
    open_visitor,
    page_status,
    resume,
    send_message,
    visit,
)
from tests.deploy.conftest import Processes, stored_rows
from tests.deploy.servers import ROOT, Daphne, PostgresServer

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]


stored = stored_rows("body")


async def until_live(
    sender: Peer, receiver: Peer, frame: dict[str, Any], *, timeout: float
) -> None:
    """Send an ephemeral ``typing`` frame until one crosses the channel layer: live
    delivery works (again)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await sender.send(**frame)
        try:
            await receiver.next("typing", timeout=0.5)
            return
        except AssertionError:
            if loop.time() > deadline:
                raise AssertionError(f"no live delivery within {timeout} s") from None


# --- Redis ------------------------------------------------------------------------


async def test_redis_outage_keeps_messages_and_live_delivery_resumes(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    redis = await asyncio.to_thread(processes.redis)
    a, b = await asyncio.to_thread(processes.two_daphnes, REDIS_URL=redis.url)
    operator = await open_operator(b, operator_cookie, peers)
    visitor = await open_visitor(a, await asyncio.to_thread(visit, a), peers)
    thread = visitor.hello["thread"]["id"]
    outbox = Outbox()
    before = outbox.add("before the outage")
    await send_message(visitor, outbox, before)
    await visitor.next("ack", where=lambda f: f["client_id"] == before)
    await operator.next("message", where=lambda f: f["message"]["client_id"] == before)

    await asyncio.to_thread(redis.stop)
    during = outbox.add("while Redis is down")
    await send_message(visitor, outbox, during)
    ack = await visitor.next("ack", "error")
    assert (ack["type"], ack["client_id"], ack["seq"]) == ("ack", during, 2)
    assert [body for _, body in await stored(thread)] == [
        "before the outage",
        "while Redis is down",
    ]

    await asyncio.to_thread(redis.start)  # same port, empty: nothing was kept
    await until_live(visitor, operator, {"type": "typing", "active": True}, timeout=20)
    await until_live(
        operator,
        visitor,
        {"type": "typing", "thread": thread, "active": True},
        timeout=20,
    )
    after = outbox.add("after the outage")
    await send_message(visitor, outbox, after)
    live = await operator.next(
        "message", where=lambda f: f["message"]["client_id"] == after
    )
    assert live["message"]["seq"] == 3

    # The inbox syncs from its last seq without a gap, and gets what it missed.
    await operator.send(
        type="sync", thread=thread, after=operator.contiguous_seq(thread)
    )
    await operator.next("sync")
    seen = operator.messages_seen()
    assert sorted((m["seq"], m["body"]) for m in seen.values()) == [
        (1, "before the outage"),
        (2, "while Redis is down"),
        (3, "after the outage"),
    ]


async def open_and_send_during_an_outage(
    redis: Any, server: Daphne, peers: list[Peer], body: str
) -> tuple[Peer, str, Outbox, dict[str, Any]]:
    """Stop Redis, open a visitor's page and send ``body``: it is acked (stored).
    Returns the visitor, its cookie, its outbox and the ack."""
    cookie = await asyncio.to_thread(visit, server)
    await asyncio.to_thread(redis.stop)
    visitor = await open_visitor(server, cookie, peers)
    outbox = Outbox()
    during = outbox.add(body)
    await send_message(visitor, outbox, during)
    ack = await visitor.next("ack", "error")
    assert (ack["type"], ack["client_id"]) == ("ack", during)
    return visitor, cookie, outbox, ack


async def test_a_socket_opened_while_redis_is_down_stores_then_rejoins_live_delivery(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    # The process's first socket opens during the outage: its hub (realtime.hub) cannot
    # subscribe, so the socket works without live delivery until told to reconnect.
    redis = await asyncio.to_thread(processes.redis)
    server = await asyncio.to_thread(processes.daphne, REDIS_URL=redis.url)
    visitor, cookie, outbox, ack = await open_and_send_during_an_outage(
        redis, server, peers, "sent from a page opened during the outage"
    )
    thread = visitor.hello["thread"]["id"]

    await asyncio.to_thread(redis.start)
    # Its pings find the layer back: the server closes it so that it reconnects.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while not visitor.closed.done():
        assert loop.time() < deadline, "the socket was not told to reconnect"
        await visitor.send(type="ping")
        await asyncio.wait({visitor.closed}, timeout=0.5)
    assert visitor.closed.result() == 4503
    visitor = await open_visitor(server, cookie, peers)
    outbox.record_acks(visitor)
    await resume(visitor, outbox, after_seq=ack["seq"])
    operator = await open_operator(server, operator_cookie, peers)
    after = outbox.add("after the outage")
    await send_message(visitor, outbox, after)
    live = await operator.next(
        "message", where=lambda f: f["message"]["client_id"] == after
    )
    assert live["message"]["thread"] == thread


async def test_a_socket_opened_during_an_outage_beside_others_resumes_with_them(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    # The process's hub subscribed before the outage (for the operator's socket): a
    # visitor that opens during it joins the hub and is live again with the others
    # once Redis is back, without reconnecting.
    redis = await asyncio.to_thread(processes.redis)
    server = await asyncio.to_thread(processes.daphne, REDIS_URL=redis.url)
    operator = await open_operator(server, operator_cookie, peers)
    visitor, _cookie, outbox, ack = await open_and_send_during_an_outage(
        redis, server, peers, "sent during the outage"
    )
    thread = visitor.hello["thread"]["id"]
    assert ack["seq"] == 1

    await asyncio.to_thread(redis.start)
    await until_live(visitor, operator, {"type": "typing", "active": True}, timeout=20)
    after = outbox.add("after the outage")
    await send_message(visitor, outbox, after)
    live = await operator.next(
        "message", where=lambda f: f["message"]["client_id"] == after
    )
    assert (live["message"]["thread"], live["message"]["seq"]) == (thread, 2)
    assert not visitor.closed.done()


def sign_in_status(server: Daphne) -> int:
    """POST the admin's sign-in form (with its CSRF token): the answer's status."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(server.http + "/admin/login/", timeout=10) as page:
        html = page.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token, "no CSRF token on the sign-in page"
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": "nobody",
            "password": "wrong password",
        }
    ).encode()
    try:
        with opener.open(server.http + "/admin/login/", form, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_while_redis_is_down_the_chat_page_fails_open_and_sign_in_fails_closed(
    processes: Processes,
) -> None:
    redis = processes.redis()
    server = processes.daphne(REDIS_URL=redis.url)
    cookie = visit(server)
    assert sign_in_status(server) == 200  # counted, refused: the form again

    redis.stop()
    assert page_status(server) == 200  # a new visitor: a new session
    assert page_status(server, cookie) == 200  # a returning one
    with urllib.request.urlopen(server.http + "/jsi18n/", timeout=10) as catalog:  # noqa: S310
        assert catalog.status == 200  # a cached page, rendered again
    assert sign_in_status(server) == 429

    redis.start()
    assert sign_in_status(server) == 200


# --- PostgreSQL ---------------------------------------------------------------------


def migrated_postgres(processes: Processes) -> tuple[PostgresServer, str]:
    """A private PostgreSQL with Sohbet's tables: (server, DATABASE_URL)."""
    postgres = processes.postgres()
    postgres.psql("postgres", "CREATE DATABASE sohbet")
    url = postgres.url("sohbet")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": url,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return postgres, url


def rows_of(url: str, thread: int) -> list[tuple[int, str]]:
    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT seq, body FROM chat_message WHERE thread_id = %s ORDER BY seq",
            [thread],
        ).fetchall()


async def test_postgres_outage_gets_retryable_errors_and_a_resend_is_stored_once(
    processes: Processes, peers: list[Peer]
) -> None:
    postgres, url = await asyncio.to_thread(migrated_postgres, processes)
    # How long a database call waits for a connection before it fails (default 10).
    server = await asyncio.to_thread(
        processes.daphne, DATABASE_URL=url, DATABASE_POOL_TIMEOUT="3"
    )
    cookie = await asyncio.to_thread(visit, server)
    visitor = await open_visitor(server, cookie, peers)
    thread = visitor.hello["thread"]["id"]
    outbox = Outbox()
    first = outbox.add("before the outage")
    await send_message(visitor, outbox, first)
    await visitor.next("ack", where=lambda f: f["client_id"] == first)

    await asyncio.to_thread(postgres.stop)
    pending = outbox.add("while PostgreSQL is down")
    await send_message(visitor, outbox, pending)
    answer = await visitor.next(
        "ack", "error", timeout=20, where=lambda f: f["client_id"] == pending
    )
    assert (answer["type"], answer["code"]) == ("error", "unavailable")
    await visitor.send(type="ping")  # the connection stays usable
    await visitor.next("pong")
    refused = await Peer.open_raw(
        server.ws + "/ws/chat/", cookie=cookie, origin=server.http
    )
    peers.append(refused)
    assert await refused.wait_closed() == 4503  # reconnect later, with back-off

    await asyncio.to_thread(postgres.start)  # same port, same data
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 40

    async def resend_until_acked() -> Frame:
        while True:  # what a page does: resend with the same client_id until acked
            await send_message(visitor, outbox, pending)
            answer = await visitor.next(
                "ack", "error", timeout=20, where=lambda f: f["client_id"] == pending
            )
            if answer["type"] == "ack":
                return answer
            assert answer["code"] == "unavailable"
            assert loop.time() < deadline, "PostgreSQL is back but sends still fail"

    answer = await resend_until_acked()
    # Once more, the same message: a copy is looked up through the ORM, whose pool
    # may still be in its reconnect back-off (then "unavailable" again, retryable).
    again = await resend_until_acked()
    assert again["id"] == answer["id"]
    assert await asyncio.to_thread(rows_of, url, thread) == [
        (1, "before the outage"),
        (2, "while PostgreSQL is down"),
    ]


async def test_a_postgres_restart_between_messages_fails_no_send(
    processes: Processes, peers: list[Peer]
) -> None:
    postgres, url = await asyncio.to_thread(migrated_postgres, processes)
    server = await asyncio.to_thread(processes.daphne, DATABASE_URL=url)
    visitor = await open_visitor(server, await asyncio.to_thread(visit, server), peers)
    thread = visitor.hello["thread"]["id"]
    outbox = Outbox()
    first = outbox.add("before the restart")
    await send_message(visitor, outbox, first)
    await visitor.next("ack", where=lambda f: f["client_id"] == first)

    await asyncio.to_thread(postgres.stop)
    await asyncio.to_thread(postgres.start)
    # The pooled connections died with the server; none may be handed out.
    second = outbox.add("after the restart")
    await send_message(visitor, outbox, second)
    answer = await visitor.next(
        "ack", "error", timeout=20, where=lambda f: f["client_id"] == second
    )
    assert answer["type"] == "ack", answer
    assert await asyncio.to_thread(rows_of, url, thread) == [
        (1, "before the restart"),
        (2, "after the restart"),
    ]


# --- Daphne -------------------------------------------------------------------------


async def test_daphne_stopped_mid_conversation_loses_and_duplicates_nothing(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    server = await asyncio.to_thread(processes.daphne)
    operator = await open_operator(server, operator_cookie, peers)
    cookie = await asyncio.to_thread(visit, server)
    visitor = await open_visitor(server, cookie, peers)
    thread = visitor.hello["thread"]["id"]
    outbox = Outbox()
    for n in range(3):
        client_id = outbox.add(f"before {n}")
        await send_message(visitor, outbox, client_id)
        await visitor.next("ack", where=lambda f, c=client_id: f["client_id"] == c)
    burst = [outbox.add(f"burst {n}") for n in range(12)]
    for client_id in burst:
        await send_message(visitor, outbox, client_id)
    await visitor.next("ack", where=lambda f: f["client_id"] in burst)
    server.send_signal(signal.SIGTERM)
    for peer in (visitor, operator):
        await peer.wait_closed()
    await asyncio.to_thread(server.wait_exit)
    outbox.record_acks(visitor)
    seen_seq = max(f["seq"] for f in outbox.acked.values())

    # A supervisor starts it again on the same port; both clients reconnect.
    restarted = await asyncio.to_thread(processes.daphne, port=server.port)
    old_operator = operator
    operator = await open_operator(restarted, operator_cookie, peers)
    visitor = await open_visitor(restarted, cookie, peers)
    synced = await resume(visitor, outbox, after_seq=seen_seq)

    rows = await stored(thread)
    assert [seq for seq, _ in rows] == list(range(1, len(outbox.bodies) + 1))
    assert sorted(body for _, body in rows) == sorted(outbox.bodies.values())
    visitor_has = {f["id"] for f in outbox.acked.values()} | {m["id"] for m in synced}
    assert len(visitor_has) == len(rows)

    await operator.send(
        type="sync", thread=thread, after=old_operator.contiguous_seq(thread)
    )
    await operator.next("sync")
    seen = old_operator.messages_seen() | operator.messages_seen()
    assert sorted(m["body"] for m in seen.values()) == sorted(outbox.bodies.values())
