"""The inbox's views with their counts, labels and the visitor's wait, live."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.axe import violations
from tests.browser.pages import SENT, open_thread, send_as_visitor

pytestmark = pytest.mark.django_db(transaction=True)


def count(inbox: Any, view: str) -> Any:
    return inbox.locator(f'#thread-filter [data-view="{view}"] .view-count')


def test_views_counts_labels_and_the_wait_follow_the_conversation_live(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    expect(count(inbox, "open")).to_have_text("0")
    visitor = visitor_page()
    send_as_visitor(visitor, "Hello, is anyone there?")
    expect(visitor.locator(SENT)).to_have_count(1)

    # A new conversation: counted live, unassigned and waiting.
    for view, expected in (("open", "1"), ("unassigned", "1"), ("waiting", "1")):
        expect(count(inbox, view)).to_have_text(expected)
    expect(count(inbox, "mine")).to_have_text("0")
    row = inbox.locator("#thread-list [data-thread-id]")
    expect(row.locator(".thread-waiting")).to_have_text("waiting less than a minute")

    # A label made from the inbox, on the open conversation: in the header and row.
    open_thread(inbox)
    inbox.click("#labels-button")
    inbox.fill("#label-name", "VIP")
    inbox.select_option("#label-colour", label="Green")
    assert violations(inbox) == []
    inbox.click("#label-form button[type=submit]")
    expect(inbox.locator("#conversation-labels .label-chip")).to_have_text("VIP")
    expect(row.locator(".thread-labels .label-chip")).to_have_text("VIP")
    expect(inbox.locator("#label-options input[type=checkbox]")).to_be_checked()
    inbox.keyboard.press("Escape")
    expect(inbox.locator("#label-menu")).to_be_hidden()

    # The answer ends the wait and takes the conversation: the counts move.
    inbox.fill("#reply-input", "Yes, how can I help?")
    inbox.press("#reply-input", "Enter")
    expect(row.locator(".thread-waiting")).to_be_hidden()
    for view, expected in (("mine", "1"), ("unassigned", "0"), ("waiting", "0")):
        expect(count(inbox, view)).to_have_text(expected)

    # The views and the label filter, by keyboard.
    inbox.focus('#thread-filter [data-view="waiting"]')
    inbox.keyboard.press("Enter")
    expect(inbox.locator("#thread-list-empty")).to_be_visible()
    inbox.focus('#thread-filter [data-view="mine"]')
    inbox.keyboard.press("Enter")
    expect(row).to_have_count(1)
    inbox.select_option("#label-filter", label="VIP")
    expect(row).to_have_count(1)
    expect(inbox.locator('#thread-filter [data-view="mine"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(row).to_have_attribute("data-thread-id", re.compile(r"\d+"))
    assert visitor.errors == [] and inbox.errors == []
