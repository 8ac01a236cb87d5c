"""A server restart mid-conversation loses nothing and duplicates nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from chat.models import Message
from tests.browser.conftest import start_daphne, stop_daphne

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
        expect(page.locator("#connection-state")).to_have_attribute(
            "data-state", "offline"
        )
        page.fill("#composer-input", "while it was down")
        page.click("#send-button")
        expect(page.locator('#messages [data-status="pending"]')).to_have_count(1)

        server = start_daphne(test_db_name, port=port)
        page.evaluate("window.dispatchEvent(new Event('online'))")  # skip the back-off
        expect(page.locator('#messages [data-status="pending"]')).to_have_count(0)
        expect(page.locator("#messages .author-visitor .body")).to_have_text(
            ["before the restart", "while it was down"]
        )
        bodies = list(Message.objects.order_by("seq").values_list("body", flat=True))
        assert bodies == ["before the restart", "while it was down"]
    finally:
        context.close()
        stop_daphne(server)
