"""Every wait on the database is bounded, and one socket's wait is its own: a locked
row or table gets the client a retryable ``unavailable`` within the bound (a resend
is stored once), and the other sockets of the process carry on meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from chat.models import Message
from chat.signals import lift_timeouts, restore_timeouts
from tests.deploy.client import Peer, new_client_id, open_visitor, visit
from tests.deploy.conftest import Processes

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]


LOCK_THREAD = "SELECT id FROM chat_thread WHERE id = %s FOR UPDATE"


@contextmanager
def held(sql: str, *params: Any) -> Iterator[None]:
    """Run ``sql`` in a transaction of another client and hold it (its locks) until
    the block ends."""
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    ) as other:
        other.execute(
            sql, params or None
        )  # psycopg opens a transaction: the lock stays taken
        try:
            yield
        finally:
            other.rollback()


async def new_visitor(server: Any, peers: list[Peer]) -> Peer:
    cookie = await asyncio.to_thread(visit, server)
    return await open_visitor(server, cookie, peers)


async def written_visitor(server: Any, peers: list[Peer]) -> Peer:
    """A visitor whose conversation is written (its first message stored)."""
    visitor = await new_visitor(server, peers)
    await visitor.send(type="message.send", client_id=new_client_id(), body="first")
    await visitor.next("ack")
    return visitor


@sync_to_async
def stored_count(thread_id: int) -> int:
    return Message.objects.filter(thread_id=thread_id).count()


async def test_a_send_to_a_locked_conversation_is_refused_in_time_and_stored_once_later(
    processes: Processes, peers: list[Peer]
) -> None:
    server = await asyncio.to_thread(processes.daphne, DATABASE_LOCK_TIMEOUT="1")
    locked = await written_visitor(server, peers)
    other = await new_visitor(server, peers)
    thread = locked.hello["thread"]["id"]
    client_id = new_client_id()

    with held(LOCK_THREAD, thread):
        await locked.send(type="message.send", client_id=client_id, body="hello?")
        refused = await locked.next("ack", "error", timeout=15)
        assert refused["type"] == "error"
        assert (refused["code"], refused["client_id"]) == ("unavailable", client_id)
        # Another conversation is stored meanwhile.
        await other.send(type="message.send", client_id=new_client_id(), body="hi")
        assert (await other.next("ack", "error", timeout=15))["type"] == "ack"

    await locked.send(type="message.send", client_id=client_id, body="hello?")
    ack = await locked.next("ack", "error", timeout=15)
    assert (ack["type"], ack["client_id"]) == ("ack", client_id)
    await locked.send(type="message.send", client_id=client_id, body="hello?")
    assert (await locked.next("ack", timeout=15))["id"] == ack["id"]
    assert await stored_count(thread) == 2  # "first", then this one once


async def test_a_batch_that_outlasts_the_writers_bound_is_refused_and_stored_once_later(
    processes: Processes, peers: list[Peer]
) -> None:
    # No lock timeout at all: the writer's own bound answers the sender.
    server = await asyncio.to_thread(
        processes.daphne, DATABASE_LOCK_TIMEOUT="0", SOHBET_STORE_TIMEOUT="1"
    )
    visitor = await written_visitor(server, peers)
    thread = visitor.hello["thread"]["id"]
    client_id = new_client_id()

    with held(LOCK_THREAD, thread):
        await visitor.send(type="message.send", client_id=client_id, body="hello?")
        refused = await visitor.next("ack", "error", timeout=15)
        assert (refused["type"], refused["code"]) == ("error", "unavailable")

    for _ in range(2):
        await visitor.send(type="message.send", client_id=client_id, body="hello?")
        ack = await visitor.next("ack", "error", timeout=15)
        assert (ack["type"], ack["client_id"]) == ("ack", client_id)
    assert await stored_count(thread) == 2  # "first", then this one once


async def test_a_read_of_a_locked_table_is_answered_unavailable_in_time(
    processes: Processes, peers: list[Peer]
) -> None:
    server = await asyncio.to_thread(processes.daphne, DATABASE_LOCK_TIMEOUT="1")
    visitor = await new_visitor(server, peers)

    with held("LOCK TABLE chat_message IN ACCESS EXCLUSIVE MODE"):
        await visitor.send(type="sync", after=0)
        refused = await visitor.next("sync", "error", timeout=15)
        assert (refused["type"], refused["code"]) == ("error", "unavailable")
        assert "client_id" not in refused
        assert "store" not in refused["detail"]  # a read: nothing was to be stored

    await visitor.send(type="sync", after=0)
    assert (await visitor.next("sync", "error", timeout=15))["type"] == "sync"


async def test_a_socket_waiting_on_a_lock_does_not_hold_up_the_others(
    processes: Processes, peers: list[Peer]
) -> None:
    # A long lock wait: the waiting socket's read mark waits for it, on a database
    # thread of its own; new sockets connect and read, others post, meanwhile.
    server = await asyncio.to_thread(processes.daphne, DATABASE_LOCK_TIMEOUT="60")
    waiting = await new_visitor(server, peers)
    thread = waiting.hello["thread"]["id"]
    await waiting.send(type="message.send", client_id=new_client_id(), body="one")
    ack = await waiting.next("ack")

    with held(LOCK_THREAD, thread):
        await waiting.send(type="read", up_to=ack["id"])
        await waiting.send(type="ping")  # answered after the read: not yet
        for _ in range(5):
            newcomer = await new_visitor(server, peers)  # hello within Peer.open's 10 s
            await newcomer.send(type="sync", after=0)
            assert (await newcomer.next("sync", "error"))["type"] == "sync"
            await newcomer.send(
                type="message.send", client_id=new_client_id(), body="x"
            )
            assert (await newcomer.next("ack", "error"))["type"] == "ack"
        assert not any(frame["type"] == "pong" for frame in waiting.frames)

    await waiting.next("pong", timeout=15)  # its own wait ended with the lock


def test_the_applications_connections_bound_statements_and_lock_waits() -> None:
    if connection.vendor != "postgresql":
        pytest.fail("PostgreSQL is required")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "10s"
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "3s"


def test_migrations_run_without_the_bounds_and_restore_them() -> None:
    def shown() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            statement = cursor.fetchone()[0]
            cursor.execute("SHOW lock_timeout")
            return statement, cursor.fetchone()[0]

    lift_timeouts(sender=None)
    assert shown() == ("0", "0")
    restore_timeouts(sender=None)
    assert shown() == ("10s", "3s")
