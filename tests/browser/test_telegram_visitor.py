""" "Continue in Telegram" in the visitor's page: the menu's action shows a one-time
link to the bot, tied to this visitor (the bot's side: tests/telegram/
test_visitor_telegram.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from chat.models import Thread
from telegram_bridge import visitor_services
from telegram_bridge.models import BridgeState
from tests.browser.axe import violations
from tests.browser.conftest import LiveServer, start_daphne, stop_daphne
from tests.browser.pages import SENT, send_as_visitor
from tests.chat.email.smtp import free_port

pytestmark = pytest.mark.django_db(transaction=True)

BOT = "kahve_support_bot"


@pytest.fixture(scope="module")
def telegram_server(test_db_name: str) -> Iterator[LiveServer]:
    """A server with the Telegram bridge configured (the bridge itself is not
    needed: the bot's name is the one it recorded)."""
    server = start_daphne(
        test_db_name,
        free_port(),
        env={
            "TELEGRAM_BOT_TOKEN": "123456:not-a-real-token",
            "TELEGRAM_CHAT_ID": "-1001234567890",
            "TELEGRAM_API_URL": "http://127.0.0.1:9",  # never called
        },
    )
    yield server
    stop_daphne(server)


def test_continue_in_telegram_shows_a_link_for_this_visitor(
    browser: Any, telegram_server: LiveServer
) -> None:
    BridgeState.objects.update_or_create(pk=1, defaults={"bot_username": BOT})
    context = browser.new_context(base_url=telegram_server.url)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/")
        page.wait_for_selector('#connection-state[data-state="open"]', state="attached")
        send_as_visitor(page, "Kargom nerede?")
        expect(page.locator(SENT)).to_have_count(1)

        page.locator("#menu-button").click()
        page.locator("#telegram-button").click()
        opener = page.locator("#telegram-open")
        expect(opener).to_be_visible()
        expect(page.locator("#telegram-hint")).to_contain_text(
            "share your phone number"
        )
        href = opener.get_attribute("href") or ""
        prefix = f"https://t.me/{BOT}?start="
        assert href.startswith(prefix)
        assert opener.get_attribute("target") == "_blank"
        assert violations(page) == []

        # The link's token belongs to this page's visitor, once.
        chat = visitor_services.start_chat(
            token=href.removeprefix(prefix),
            telegram_user_id=6660001,
            language_code="en",
        )
        assert chat.visitor_id == Thread.objects.get().visitor_id
        with pytest.raises(visitor_services.VisitorLinkRefused):
            visitor_services.start_chat(
                token=href.removeprefix(prefix),
                telegram_user_id=6660002,
                language_code="en",
            )
    finally:
        context.close()
