"""A conversation closed or reopened shows so on the visitor's page at once."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.pages import SENT, open_thread, send_as_visitor

pytestmark = pytest.mark.django_db(transaction=True)


def test_closing_and_reopening_reach_the_visitors_page_live(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    note = visitor.locator("#thread-note")
    send_as_visitor(visitor, "Hello")
    expect(visitor.locator(SENT)).to_have_count(1)
    open_thread(inbox)
    expect(note).to_be_hidden()

    inbox.click("#close-thread")
    expect(note).to_be_visible()
    expect(note).to_have_text(
        "This conversation was closed. Write to us again at any time."
    )

    send_as_visitor(visitor, "One more thing")  # writing again reopens it
    expect(note).to_be_hidden()
    expect(inbox.locator("#close-thread")).to_be_visible()

    inbox.click("#close-thread")
    expect(note).to_be_visible()
    inbox.click("#reopen-thread")
    expect(note).to_be_hidden()
    assert visitor.errors == [] and inbox.errors == []


def test_a_page_opened_on_a_closed_conversation_shows_it_closed(
    visitor_page: Any, operator_page: Any, new_context: Any
) -> None:
    inbox = operator_page()
    context = new_context()
    visitor = visitor_page(context)
    send_as_visitor(visitor, "Hello")
    expect(visitor.locator(SENT)).to_have_count(1)
    open_thread(inbox)
    inbox.click("#close-thread")
    expect(visitor.locator("#thread-note")).to_be_visible()
    other_tab = visitor_page(context)  # same visitor, a new page
    expect(other_tab.locator("#thread-note")).to_be_visible()
    send_as_visitor(other_tab, "Back again")
    for page in (visitor, other_tab):  # every tab, not only the one that wrote
        expect(page.locator("#thread-note")).to_be_hidden()
