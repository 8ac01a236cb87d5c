"""Blocking and the rating in real pages: an operator blocks from the inbox and the
visitor's messages meet a neutral refusal (and go nowhere) until unblocked; a visitor
rates a closed conversation and the operator sees it live."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.axe import violations
from tests.browser.pages import SENT, open_thread, send_as_visitor

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_operator_blocks_from_the_inbox_and_the_visitor_sees_a_neutral_message(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "Hello")
    expect(visitor.locator(SENT)).to_have_count(1)
    open_thread(inbox)

    inbox.click("#block-visitor")
    expect(inbox.locator("#block-dialog")).to_be_visible()
    assert violations(inbox, exclude=["#thread-list"]) == []
    inbox.fill("#block-reason", "insults")
    inbox.click("#block-confirm")
    note = inbox.locator("#thread-blocked-note")
    expect(note).to_contain_text("insults")
    expect(inbox.locator("#unblock-visitor")).to_be_visible()

    send_as_visitor(visitor, "you are all useless")
    refused = visitor.locator("#messages .message-error-text")
    expect(refused).to_have_text("This conversation is not available.")
    expect(visitor.locator("body")).not_to_contain_text("block")
    expect(inbox.locator("#messages")).not_to_contain_text("useless")

    inbox.click("#unblock-visitor")
    expect(note).to_be_hidden()
    expect(inbox.locator("#block-visitor")).to_be_visible()
    send_as_visitor(visitor, "Sorry about that")
    expect(inbox.locator("#messages")).to_contain_text("Sorry about that")
    assert visitor.errors == [] and inbox.errors == []


def test_a_visitor_rates_a_closed_conversation_and_the_operator_sees_it(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "Where is my parcel?")
    expect(visitor.locator(SENT)).to_have_count(1)
    open_thread(inbox)
    rating = visitor.locator("#rating")
    expect(rating).to_be_hidden()

    inbox.click("#close-thread")
    expect(rating).to_be_visible()
    assert violations(visitor) == []
    visitor.click("label[for=rating-4]")
    visitor.fill("#rating-comment", "Quick and kind")
    visitor.click("#rating-send")
    expect(visitor.locator("#rating-thanks")).to_be_visible()
    expect(inbox.locator("#thread-rating-note")).to_have_text(
        "Rated ★★★★☆ 4/5: Quick and kind"
    )

    visitor.reload()  # rated: thanked again, not asked anew
    expect(visitor.locator("#rating-thanks")).to_be_visible()
    expect(visitor.locator("#rating-4")).to_be_checked()
    assert visitor.errors == [] and inbox.errors == []
