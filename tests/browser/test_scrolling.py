"""A picture that finishes loading while the reader is at the end of the conversation
keeps them at the end, on both pages."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.pages import SENT, open_thread, send_as_visitor
from tests.samples import png

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"viewport": {"width": 390, "height": 640}}
PICTURE = {"name": "photo.png", "mimeType": "image/png", "buffer": png((600, 800))}
AT_THE_END = "(box) => box.scrollHeight - box.scrollTop - box.clientHeight <= 2"


def loaded(page: Any, selector: str) -> None:
    page.wait_for_function(
        "(s) => [...document.querySelectorAll(s)]"
        ".some((img) => img.complete && img.naturalWidth)",
        arg=selector,
    )


def test_a_picture_from_the_operator_keeps_the_visitor_at_the_end(
    visitor_page: Any, operator_page: Any, new_context: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page(new_context(**PHONE))
    for n in range(12):  # more than a screen
        send_as_visitor(visitor, f"line {n}")
    expect(visitor.locator(SENT)).to_have_count(12)
    open_thread(inbox)
    inbox.set_input_files("#file-input", files=[PICTURE])
    inbox.click("#reply-send")
    loaded(visitor, "#messages .attachment-image img")
    visitor.wait_for_function(
        AT_THE_END,
        arg=visitor.locator("#conversation").element_handle(),
        timeout=3_000,
    )
    expect(visitor.locator("#jump-latest")).to_be_hidden()


def test_a_picture_from_the_visitor_keeps_the_operator_at_the_end(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    for n in range(16):
        send_as_visitor(visitor, f"line {n}")
    expect(visitor.locator(SENT)).to_have_count(16, timeout=15_000)  # paced
    open_thread(inbox)
    expect(inbox.locator("#messages .author-visitor")).to_have_count(16)
    visitor.set_input_files("#file-input", files=[PICTURE])
    visitor.click("#send-button")
    loaded(inbox, "#messages .attachment-image img")
    inbox.wait_for_function(
        AT_THE_END,
        arg=inbox.locator("#messages-scroll").element_handle(),
        timeout=3_000,
    )
