"""The message writer's own thread: a connection it kept that died is replaced, and
the batch is stored once."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections

from chat import services, writer
from chat.models import Message
from chat.services import NewMessage, Posted

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]


def test_a_batch_on_a_connection_killed_under_it_is_stored_once() -> None:
    _visitor, thread = services.start_visitor(session_key="k" * 32)
    post = NewMessage(thread_id=thread.pk, client_id=uuid.uuid4(), body="still here")
    results: list[object] = []

    def in_the_writers_thread() -> None:
        # The writer keeps its connection between batches; here it died meanwhile
        # (as in a PostgreSQL restart).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            other.close()
        try:
            results.append(writer._store([post]))
        except Exception as exc:  # pragma: no cover - the failure this test catches
            results.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=in_the_writers_thread)
    worker.start()
    worker.join(30)
    (result,) = results
    assert not isinstance(result, Exception), result
    outcomes, _events = result  # type: ignore[misc]
    assert isinstance(outcomes[0], Posted) and outcomes[0].created
    assert list(Message.objects.values_list("body", flat=True)) == ["still here"]
