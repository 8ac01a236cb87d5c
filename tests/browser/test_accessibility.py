"""axe-core (WCAG 2.2 AA) on both pages, light and dark, empty and with a
conversation carrying every kind of file; the ticks and the thread list by keyboard."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import expect

from chat.models import Message, Thread
from tests.browser.axe import violations
from tests.browser.conftest import ROOT
from tests.browser.pages import SENT, open_thread, send_as_visitor
from tests.samples import post_every_kind

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMES = ("light", "dark")
# Serious or critical violations of the stock Django admin around the inbox that
# Sohbet leaves as they are: none (the breadcrumbs' links, 1.4:1 against their text,
# are underlined by static/chat/admin.css).
STOCK_ADMIN: list[str] = []


@pytest.fixture(autouse=True)
def media_of_the_server(settings: Any) -> None:
    # Files stored here must be where the browser tests' server reads them.
    settings.MEDIA_ROOT = ROOT / ".tmp" / "test-media"


def in_background(function: Any, /, *args: Any, **kwargs: Any) -> Any:
    # A service broadcasts after commit with async_to_sync, which Playwright's own
    # event loop in this thread forbids.
    def run() -> Any:
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()  # the worker thread's own, before it goes

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result(timeout=30)


# No finite animation or transition running (spinners and pulses loop forever).
SETTLED = """() => document.getAnimations().every((a) =>
  a.playState !== "running" || a.effect.getComputedTiming().iterations === Infinity)"""


def assert_accessible(page: Any, *, exclude: list[str] | None = None) -> None:
    for scheme in SCHEMES:
        # Reduced motion: no colour transition still under way when axe looks.
        page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        page.wait_for_function(SETTLED)  # the admin's links still fade (0.15 s)
        found = violations(page, exclude=exclude)
        assert found == [], f"{scheme}: {found}"
    page.emulate_media(color_scheme="light", reduced_motion="no-preference")


def test_both_pages_pass_axe_when_empty(visitor_page: Any, operator_page: Any) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    expect(visitor.locator("#welcome")).to_be_visible()
    assert_accessible(visitor)
    expect(inbox.locator("#thread-list-empty")).to_be_visible()
    assert_accessible(inbox, exclude=STOCK_ADMIN)


def test_both_pages_pass_axe_with_every_kind_of_file(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "Hello, see https://example.com/order")
    expect(visitor.locator(SENT)).to_have_count(1)
    thread = Thread.objects.get()
    in_background(post_every_kind, thread.pk)
    in_background(post_every_kind, thread.pk, author=Message.Author.OPERATOR)
    every = Message.objects.count()
    expect(visitor.locator("#messages .message")).to_have_count(every)
    expect(visitor.locator("#messages .attachment-image img")).to_have_count(2)
    expect(visitor.locator("#messages .attachment-missing")).to_have_count(0)
    open_thread(inbox)
    expect(inbox.locator("#messages .msg")).to_have_count(every)
    expect(inbox.locator("#messages .attachment-missing")).to_have_count(0)
    expect(visitor.locator('#messages [data-status="read"]').first).to_be_visible()
    assert_accessible(visitor)
    assert_accessible(inbox, exclude=STOCK_ADMIN)
    assert visitor.errors == [] and inbox.errors == []


def test_read_differs_from_delivered_in_shape_and_label(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "Are you there?")
    tick = visitor.locator("#messages .author-visitor .tick")
    expect(tick).to_have_attribute("aria-label", "Delivered")  # the inbox has it
    delivered = tick.inner_html()
    open_thread(inbox)  # and reads it
    expect(tick).to_have_attribute("aria-label", "Read")
    assert tick.locator("circle").count() == 1 and "circle" not in delivered
    assert tick.get_attribute("role") == "img"


def test_the_thread_list_is_one_tab_stop_with_the_arrows_inside(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    for n in range(3):
        visitor = visitor_page()
        send_as_visitor(visitor, f"visitor {n}")
        expect(visitor.locator(SENT)).to_have_count(1)
    rows = inbox.locator("#thread-list [data-thread-id]")
    expect(rows).to_have_count(3)
    inbox.focus("#thread-search")
    inbox.keyboard.press("Tab")
    expect(rows.nth(0)).to_be_focused()
    inbox.keyboard.press("ArrowDown")
    expect(rows.nth(1)).to_be_focused()
    inbox.keyboard.press("Tab")  # out of the list at once
    focused_row = inbox.evaluate(
        "document.activeElement.closest('#thread-list') !== null"
    )
    assert not focused_row
    inbox.keyboard.press("Shift+Tab")  # back to the row it left
    expect(rows.nth(1)).to_be_focused()
    inbox.keyboard.press("End")
    expect(rows.nth(2)).to_be_focused()
    inbox.keyboard.press("Enter")
    expect(inbox.locator("#conversation")).to_have_attribute(
        "data-thread-id", rows.nth(2).get_attribute("data-thread-id") or ""
    )
    assert [rows.nth(n).get_attribute("tabindex") for n in range(3)] == [
        "-1",
        "-1",
        "0",
    ]
