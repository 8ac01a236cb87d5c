"""The inbox by keyboard (next/previous, assign, reply, close, the "?" dialog) and
on a phone (the admin's header thin, the reply box on screen)."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client
from playwright.sync_api import expect

from chat import services
from tests.browser.axe import violations

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def in_background(function: Any, /, *args: Any) -> Any:
    # Services broadcast after commit with async_to_sync, which Playwright's own
    # event loop in this thread forbids.
    def run() -> Any:
        try:
            return function(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result(timeout=30)


def conversations(*first_messages: str) -> None:
    """A visitor's conversation per message, oldest first (no page needed)."""
    for body in first_messages:
        _visitor, thread = services.start_visitor(session_key=uuid.uuid4().hex)
        services.post_message(thread_id=thread.pk, client_id=uuid.uuid4(), body=body)


def test_shortcuts_move_assign_close_and_are_listed_by_question_mark(
    operator_page: Any,
) -> None:
    in_background(conversations, "first", "second")
    inbox = operator_page()
    rows = inbox.locator("#thread-list [data-thread-id]")
    expect(rows).to_have_count(2)
    newest, older = (rows.nth(i).get_attribute("data-thread-id") for i in (0, 1))
    conversation = inbox.locator("#conversation")

    inbox.locator("body").press("j")  # nothing open: the first
    expect(conversation).to_have_attribute("data-thread-id", newest or "")
    inbox.keyboard.press("j")
    expect(conversation).to_have_attribute("data-thread-id", older or "")
    expect(rows.nth(1)).to_be_focused()
    inbox.keyboard.press("Alt+ArrowUp")
    expect(conversation).to_have_attribute("data-thread-id", newest or "")

    inbox.keyboard.press("a")
    expect(inbox.locator("#assign-select option:checked")).to_have_text("ayse (you)")
    inbox.keyboard.press("r")
    box = inbox.locator("#reply-input")
    expect(box).to_be_focused()
    inbox.keyboard.type("jack")  # letters in the reply box are text
    expect(box).to_have_value("jack")
    expect(conversation).to_have_attribute("data-thread-id", newest or "")
    inbox.keyboard.press("Escape")  # back to the list
    expect(rows.nth(0)).to_be_focused()

    inbox.keyboard.press("?")
    dialog = inbox.locator("#shortcuts-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Keyboard shortcuts")
    assert violations(inbox) == []
    inbox.keyboard.press("c")  # nothing happens behind a dialog
    inbox.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(inbox.locator("#close-thread")).to_be_visible()
    inbox.keyboard.press("c")
    expect(inbox.locator("#reopen-thread")).to_be_visible()
    assert inbox.errors == []


def test_on_a_phone_the_list_and_the_conversation_take_the_screen(
    new_context: Any, daphne_server: Any
) -> None:
    in_background(conversations, "hello from a phone test")
    user = get_user_model().objects.create_user("ayse", is_staff=True)
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    phone = new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    phone.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": cookie,
                "url": daphne_server.url,
            }
        ]
    )
    inbox = phone.new_page()
    inbox.goto("/admin/inbox/")
    header = inbox.locator("#header").bounding_box()
    assert header is not None and header["height"] <= 48, header
    expect(inbox.locator(".breadcrumbs")).to_be_hidden()
    expect(inbox.get_by_role("button", name="Log out")).to_be_visible()
    row = inbox.locator("#thread-list [data-thread-id]").first
    expect(row).to_be_visible()
    box = row.bounding_box()
    assert box is not None and box["y"] < 200, box  # was below 300 px

    row.click()
    expect(inbox.locator("#conversation")).to_have_attribute(
        "data-thread-id", re.compile(r"\d+")
    )
    reply = inbox.locator("#reply-input")
    expect(reply).to_be_visible()
    field = reply.bounding_box()
    assert field is not None and field["y"] + field["height"] <= PHONE["height"]
    expect(inbox.locator("#messages .body")).to_have_text(["hello from a phone test"])
    assert violations(inbox) == []
