"""A server restart mid-conversation loses nothing and duplicates nothing, and both
pages come back by themselves, soon: one capped, jittered back-off (lib/backoff.js,
its numbers in tests/js/connection.test.js), and at once after a close that announces
a restart (1001, 1012)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

from chat.models import Message
from tests.browser.conftest import start_daphne, stop_daphne
from tests.browser.pages import RECORD_STATES, send_as_visitor, states

pytestmark = pytest.mark.django_db(transaction=True)


def test_messages_sent_while_the_server_restarts_arrive_once(
    browser: Any, test_db_name: str
) -> None:
    server = start_daphne(test_db_name)
    port = urlparse(server.url).port
    context = browser.new_context(base_url=server.url)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.locator("#connection-state")).to_have_attribute(
            "data-state", "open"
        )
        page.fill("#composer-input", "before the restart")
        page.click("#send-button")
        expect(page.locator('#messages [data-status="pending"]')).to_have_count(0)

        stop_daphne(server)
        expect(page.locator("#connection-state")).not_to_have_attribute(
            "data-state", "open"
        )
        page.fill("#composer-input", "while it was down")
        page.click("#send-button")
        expect(page.locator('#messages [data-status="pending"]')).to_have_count(1)

        server = start_daphne(test_db_name, port=port)
        # Back by itself: the back-off never waits more than 10 s.
        expect(page.locator('#messages [data-status="pending"]')).to_have_count(
            0, timeout=15_000
        )
        expect(page.locator("#messages .author-visitor .body")).to_have_text(
            ["before the restart", "while it was down"]
        )
        bodies = list(Message.objects.order_by("seq").values_list("body", flat=True))
        assert bodies == ["before the restart", "while it was down"]
    finally:
        context.close()
        stop_daphne(server)


def operator_session(url: str) -> dict[str, str]:
    user = get_user_model().objects.create_user(
        username="ayse", password="correct horse battery staple", is_staff=True
    )
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": url}


def test_the_inbox_comes_back_after_a_restart_by_itself(
    browser: Any, test_db_name: str
) -> None:
    # Not the operator_page fixture: the stopped server leaves its sockets' presence
    # behind (it expires by itself), which that fixture waits to see gone.
    server = start_daphne(test_db_name)
    port = urlparse(server.url).port
    context = browser.new_context(base_url=server.url)
    context.add_cookies([operator_session(server.url)])
    try:
        page = context.new_page()
        page.goto("/admin/inbox/")
        state = page.locator("#connection-state")
        expect(state).to_have_attribute("data-state", "open")
        stop_daphne(server)
        expect(state).not_to_have_attribute("data-state", "open")
        server = start_daphne(test_db_name, port=port)
        expect(state).to_have_attribute("data-state", "open", timeout=15_000)
        expect(state).to_have_text("Live")
    finally:
        context.close()
        stop_daphne(server)


def proxied(page: Any, path: str) -> list[Any]:
    """Route the page's socket through Playwright to the real server; returns the
    page side of each connection, newest last."""
    connections: list[Any] = []

    def connect(ws: Any) -> None:
        ws.connect_to_server()
        connections.append(ws)

    page.route_web_socket(f"**{path}", connect)
    return connections


@pytest.mark.parametrize("code", [1012, 1001])
def test_a_restart_close_reconnects_the_chat_page_at_once(
    new_context: Any, operator_page: Any, code: int
) -> None:
    # What the server sends its sockets when it shuts down (1001 going away, 1012
    # service restart): the page says "Reconnecting…", never "Offline".
    context = new_context()
    context.add_init_script(RECORD_STATES)
    page = context.new_page()
    connections = proxied(page, "/ws/chat/")
    page.goto("/")
    line = page.locator("#connection-state")
    expect(line).to_have_attribute("data-state", "open")
    connections[-1].close(code=code, reason="restart")
    expect(line).to_have_attribute("data-state", "open", timeout=5_000)
    assert len(connections) == 2
    assert states(page) == ["connecting", "open", "reconnecting", "open"]
    send_as_visitor(page, "still here")
    expect(page.locator('#messages [data-status="pending"]')).to_have_count(0)


def test_a_restart_close_reconnects_the_inbox_at_once(operator_page: Any) -> None:
    inbox = operator_page()
    inbox.add_init_script(RECORD_STATES)
    connections = proxied(inbox, "/ws/operator/")
    inbox.reload()
    state = inbox.locator("#connection-state")
    expect(state).to_have_attribute("data-state", "open")
    connections[-1].close(code=1012, reason="restart")
    expect(state).to_have_attribute("data-state", "reconnecting")
    expect(state).to_have_text("Reconnecting…")
    expect(state).to_have_attribute("data-state", "open", timeout=5_000)
    assert states(inbox) == ["connecting", "open", "reconnecting", "open"]
