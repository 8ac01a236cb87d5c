"""Fixtures for the deployment tests: Daphne processes on the test database, private
Redis and PostgreSQL servers that a test may stop, and real WebSocket clients.

Every process a test starts is stopped by PID when the test ends, whatever its
outcome; a failing test prints the last lines of each process's log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from chat.models import Message
from tests.deploy.client import Peer
from tests.deploy.servers import (
    Daphne,
    PostgresServer,
    Process,
    RedisServer,
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def test_db_name(django_db_setup: None, django_db_blocker: Any) -> str:
    with django_db_blocker.unblock():
        return str(connection.settings_dict["NAME"])


class Processes:
    """The processes one test started; all stopped by PID at its end."""

    def __init__(self, test_db_name: str) -> None:
        self.test_db_name = test_db_name
        self.started: list[Process] = []

    def daphne(
        self, *, port: int | None = None, file_size_limit: int | None = None, **env: str
    ) -> Daphne:
        """A Daphne on the pytest test database (unless ``DATABASE_URL`` is given),
        with the suite's Redis (unless ``REDIS_URL`` is given)."""
        if "DATABASE_URL" not in env:
            env["SOHBET_TEST_SERVER_DB"] = self.test_db_name
        server = Daphne(env=env, port=port, file_size_limit=file_size_limit)
        self.started.append(server)
        return server.start()

    def two_daphnes(self, **env: str) -> tuple[Daphne, Daphne]:
        """Two Daphne processes on two ports (started side by side)."""
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(lambda _: self.daphne(**env), range(2))
        return first, second

    def redis(self) -> RedisServer:
        server = RedisServer()
        self.started.append(server)
        return server.start()

    def postgres(self) -> PostgresServer:
        server = PostgresServer()
        self.started.append(server)
        return server.start()

    def stop_all(self, *, report: bool) -> None:
        """Stop everything (Daphne first: it must not write while the database is
        flushed or stopped); print the logs when the test failed, else drop them."""
        errors: list[BaseException] = []
        for process in sorted(self.started, key=lambda p: not isinstance(p, Daphne)):
            try:
                process.stop()
                if isinstance(process, RedisServer | PostgresServer):
                    process.remove()
            except Exception as exc:
                errors.append(exc)
            if report:
                print(f"--- {process.name} (pid {process.pid})")
                print(process.log_tail())
            else:
                process.remove_logs()
        if errors:
            raise errors[0]


@pytest.fixture
def processes(
    request: pytest.FixtureRequest, transactional_db: None, test_db_name: str
) -> Iterator[Processes]:
    started = Processes(test_db_name)
    try:
        yield started
    finally:
        started.stop_all(report=request.node.stash.get(FAILED, False))


@pytest.fixture
async def peers(processes: Processes) -> AsyncIterator[list[Peer]]:
    """WebSocket connections a test opened; closed at its end, before the processes
    are stopped."""
    opened: list[Peer] = []
    yield opened
    for peer in opened:
        try:
            await peer.close()
        except Exception:  # noqa: S110 - the server may be gone already
            pass


@pytest.fixture
def operator_cookie(transactional_db: None) -> str:
    """A staff user in the test database, logged in: its ``Cookie`` header."""
    user = get_user_model().objects.create_user(
        username="ayse", password="correct horse battery staple", is_staff=True
    )
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


def stored_rows(column: str) -> Callable[[int], Awaitable[list[tuple[int, str]]]]:
    """``await stored(thread_id)``: a thread's messages in the database, in order, as
    ``(seq, <column>)`` pairs."""

    @sync_to_async
    def stored(thread_id: int) -> list[tuple[int, str]]:
        return list(
            Message.objects.filter(thread_id=thread_id)
            .order_by("seq")
            .values_list("seq", column)
        )

    return stored
