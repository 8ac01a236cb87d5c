"""A real server (Daphne in its own process) and a real Chromium for page tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    # A fake microphone (a tone) that needs no permission prompt: voice notes.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.process = process
        self.log = log


def _wait_until_up(server: LiveServer, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"daphne exited: {server.log.read_text()[-3000:]}")
        try:
            health = server.url + "/healthz/"  # http://127.0.0.1:<port>, ours
            with urllib.request.urlopen(health, timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)  # polling for readiness with a deadline
    raise RuntimeError("daphne did not answer in time")


def start_daphne(
    db_name: str, port: int | None = None, env: dict[str, str] | None = None
) -> LiveServer:
    """Start Daphne serving chatsite on 127.0.0.1 on the given test database
    (``env``: variables of its own)."""
    port = port or _free_port()
    env = {
        **os.environ,
        **(env or {}),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "SOHBET_TEST_SERVER_DB": db_name,
        "MEDIA_ROOT": str(ROOT / ".tmp" / "test-media"),
        "PYTHONUNBUFFERED": "1",
    }
    log = ROOT / ".tmp" / f"daphne-{port}.log"
    log.parent.mkdir(exist_ok=True)
    command = [
        *(sys.executable, "-m", "chatsite.server", "-b", "127.0.0.1", "-p", str(port)),
        *("--websocket-max-message-size", "65536", "--no-server-name"),
        "chatsite.asgi:application",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_up(server)
    except BaseException:
        stop_daphne(server)
        raise
    return server


def stop_daphne(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(10)


@pytest.fixture(scope="session")
def test_db_name(django_db_setup: None, django_db_blocker: Any) -> str:
    with django_db_blocker.unblock():
        return str(connection.settings_dict["NAME"])


@pytest.fixture(scope="session")
def daphne_server(test_db_name: str) -> Iterator[LiveServer]:
    """Daphne serving chatsite on 127.0.0.1, on the test database."""
    server = start_daphne(test_db_name)
    try:
        yield server
    finally:
        stop_daphne(server)


@pytest.fixture(scope="module")
def browser(daphne_server: LiveServer) -> Iterator[Any]:
    """Chromium for one test module.

    Playwright's sync API keeps an event loop running in this thread while it is
    started, so Django's async-safety check must be told that the ORM calls made by
    these (synchronous) tests are fine; other modules run without it.
    """
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is required under CI=true")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_context(
    browser: Any, daphne_server: LiveServer, django_db_blocker: Any
) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(base_url=daphne_server.url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    _wait_until_sockets_are_gone()
    with django_db_blocker.unblock():  # tests without the database mark too
        _wait_until_the_database_is_idle()


def _wait_until_sockets_are_gone(timeout: float = 10) -> None:
    """Wait until the server has handled every closed page's last frames.

    A socket's presence entry is removed at the very end of its disconnect, after the
    frames it sent before closing (read marks...) were handled. Flushing the database
    while the server still writes could deadlock on PostgreSQL.
    """
    from django.core.cache import cache

    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        return  # the server process has its own local-memory cache: nothing to see
    client = cache._cache.get_client()  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while any(client.scan_iter(match="*presence:*", count=1000)):
        if time.monotonic() > deadline:
            raise RuntimeError("the server still holds sockets of closed pages")
        time.sleep(0.02)  # polling a condition with a deadline


def _wait_until_the_database_is_idle(timeout: float = 10) -> None:
    """Wait until no other session on the test database runs a statement or holds a
    transaction: a closed page's request may still be in the server (a view, a
    socket's last query). The flush after the test truncates every table, taking
    their locks one by one; a query taking its tables' locks in another order at
    that moment deadlocks with it (PostgreSQL then cancels the flush)."""
    if connection.vendor != "postgresql":
        return
    busy_sql = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
        "AND (state = 'active' OR state LIKE 'idle in transaction%%')"
    )
    opened = connection.connection is None
    deadline = time.monotonic() + timeout
    try:
        while True:
            with connection.cursor() as cursor:
                cursor.execute(busy_sql)
                if cursor.fetchone()[0] == 0:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("the server still works on the test database")
            time.sleep(0.02)  # polling a condition with a deadline
    finally:
        if opened and not connection.in_atomic_block:
            connection.close()  # not left open for the database's drop at the end


def collect_page_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" else None,
    )
    return errors


@pytest.fixture
def visitor_page(new_context: Any) -> Any:
    """A visitor's chat page, connected."""

    def open_page(context: Any = None) -> Any:
        context = context or new_context()
        page = context.new_page()
        page.errors = collect_page_errors(page)
        page.goto("/")
        page.wait_for_selector('#connection-state[data-state="open"]', state="attached")
        return page

    return open_page


@pytest.fixture
def operator_page(
    new_context: Any, daphne_server: LiveServer, transactional_db: None
) -> Any:
    """The admin inbox of a logged-in operator, connected."""

    def open_page(username: str = "ayse") -> Any:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user(
            username=username, password="correct horse battery staple", is_staff=True
        )
        client = Client()
        client.force_login(user)
        context = new_context()
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": daphne_server.url,
                }
            ]
        )
        page = context.new_page()
        page.errors = collect_page_errors(page)
        page.goto("/admin/inbox/")
        page.wait_for_selector('#connection-state[data-state="open"]', state="attached")
        return page

    return open_page
