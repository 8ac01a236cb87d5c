"""One browser session is one visitor, whatever the race (enforced by the database)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction

from chat import services
from chat.models import Thread, Visitor

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]

SESSION = "race" * 8


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return bool(cursor.fetchone()[0])


def test_two_first_connections_of_one_session_get_one_visitor_and_thread() -> None:
    created = threading.Event()
    release = threading.Event()

    def first() -> tuple[int, int]:
        # Creates the visitor and holds its transaction open, as a first socket on
        # one process does while the other process's first socket arrives.
        try:
            with transaction.atomic():
                visitor, thread = services.start_visitor(session_key=SESSION)
                created.set()
                assert release.wait(10)
            return visitor.pk, thread.pk
        finally:
            connections.close_all()

    def second() -> tuple[int, int]:
        try:
            visitor, thread = services.start_visitor(session_key=SESSION)
            return visitor.pk, thread.pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        one = pool.submit(first)
        assert created.wait(10)
        two = pool.submit(second)
        # The second waits for the first to commit (the unique key): poll for it,
        # bounded; a second that does not wait has finished already.
        deadline = time.monotonic() + 10
        while not two.done() and not _waiting_on_a_lock():
            assert time.monotonic() < deadline, (
                "the second start neither waited nor ended"
            )
            time.sleep(0.01)  # polling a condition with a deadline
        release.set()
        assert one.result(10) == two.result(10)
    assert Visitor.objects.filter(session_key=SESSION).count() == 1
    assert Thread.objects.filter(visitor__session_key=SESSION).count() == 1
