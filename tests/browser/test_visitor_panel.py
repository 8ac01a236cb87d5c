"""The inbox's visitor panel: who the visitor is and the page they are on, updated
live as they navigate; a column on a wide inbox, a drawer on a narrow one; axe with
the panel open."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.pages import SENT, open_thread, send_as_visitor
from tests.browser.test_accessibility import STOCK_ADMIN, assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

WIDE = {"width": 1600, "height": 900}


def test_the_panel_follows_the_visitor_from_page_to_page(
    visitor_page: Any, operator_page: Any
) -> None:
    visitor = visitor_page()
    send_as_visitor(visitor, "where is my order?")
    expect(visitor.locator(SENT)).to_have_count(1)
    inbox = operator_page()
    inbox.set_viewport_size(WIDE)
    open_thread(inbox)
    panel = inbox.locator("#visitor-panel")
    expect(panel).to_be_visible()  # a column on a wide inbox
    page_link = panel.locator(".visitor-link").first
    expect(page_link).to_have_attribute("href", re.compile(r"/$"))
    expect(panel).to_contain_text("Visits")

    visitor.goto("/?step=checkout")
    visitor.wait_for_selector('#connection-state[data-state="open"]', state="attached")
    expect(page_link).to_have_attribute("href", re.compile(r"/\?step=checkout$"))
    assert visitor.errors == [] and inbox.errors == []


def test_the_panel_can_be_hidden_and_the_choice_is_kept(
    visitor_page: Any, operator_page: Any
) -> None:
    visitor = visitor_page()
    send_as_visitor(visitor, "hello")
    expect(visitor.locator(SENT)).to_have_count(1)
    inbox = operator_page()
    inbox.set_viewport_size(WIDE)
    open_thread(inbox)
    toggle = inbox.locator("#visitor-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    inbox.click("#visitor-panel-close")
    expect(inbox.locator("#visitor-panel")).to_be_hidden()
    expect(toggle).to_be_focused()
    inbox.reload()
    open_thread(inbox)
    expect(inbox.locator("#visitor-panel")).to_be_hidden()
    toggle.click()
    expect(inbox.locator("#visitor-panel")).to_be_visible()


def test_on_a_narrow_inbox_the_panel_is_a_drawer_that_esc_closes(
    visitor_page: Any, operator_page: Any
) -> None:
    visitor = visitor_page()
    send_as_visitor(visitor, "hello from a phone")
    expect(visitor.locator(SENT)).to_have_count(1)
    inbox = operator_page()
    inbox.set_viewport_size({"width": 700, "height": 800})
    open_thread(inbox)
    panel = inbox.locator("#visitor-panel")
    expect(panel).to_be_hidden()  # closed until asked: the conversation comes first
    inbox.click("#visitor-toggle")
    expect(panel).to_be_visible()
    expect(inbox.locator("#visitor-panel-close")).to_be_focused()
    assert panel.evaluate("(node) => getComputedStyle(node).position") == "absolute"
    inbox.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(inbox.locator("#visitor-toggle")).to_be_focused()


def test_the_inbox_passes_axe_with_the_panel_open(
    visitor_page: Any, operator_page: Any
) -> None:
    visitor = visitor_page()
    send_as_visitor(visitor, "check my access")
    expect(visitor.locator(SENT)).to_have_count(1)
    inbox = operator_page()
    inbox.set_viewport_size(WIDE)
    open_thread(inbox)
    expect(inbox.locator("#visitor-panel .visitor-facts").first).to_be_visible()
    assert_accessible(inbox, exclude=STOCK_ADMIN)
    inbox.set_viewport_size({"width": 700, "height": 800})
    inbox.click("#visitor-toggle")
    expect(inbox.locator("#visitor-panel")).to_be_visible()
    assert_accessible(inbox, exclude=STOCK_ADMIN)
