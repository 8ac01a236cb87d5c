"""Private notes in the inbox: written in note mode (with "@" suggestions), marked,
seen live by a colleague, who is alerted of the mention; never on the visitor's page;
a transfer with a note; axe with notes shown."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.pages import SENT, open_thread, send_as_visitor
from tests.browser.test_accessibility import (
    STOCK_ADMIN,
    assert_accessible,
    in_background,
)

pytestmark = pytest.mark.django_db(transaction=True)

NOTES = "#messages .msg.author-note"


def test_a_note_is_marked_seen_live_by_a_colleague_and_never_by_the_visitor(
    visitor_page: Any, operator_page: Any
) -> None:
    visitor = visitor_page()
    send_as_visitor(visitor, "my card was charged twice")
    expect(visitor.locator(SENT)).to_have_count(1)
    mehmet = operator_page("mehmet")
    ayse = operator_page("ayse")
    open_thread(mehmet)
    open_thread(ayse)

    # Note mode, by keyboard; "@me" suggests mehmet, Enter picks him.
    ayse.focus("#mode-note")
    ayse.keyboard.press("Enter")
    expect(ayse.locator("#mode-note")).to_have_attribute("aria-pressed", "true")
    expect(ayse.locator("#conversation-footer")).to_have_class(re.compile("note-mode"))
    ayse.fill("#reply-input", "Refund approved? ")
    ayse.locator("#reply-input").press_sequentially("@me")
    expect(ayse.locator("#mention-suggest [role=option]")).to_have_text(
        ["mehmet · @mehmet"]
    )
    ayse.keyboard.press("Enter")
    expect(ayse.locator("#reply-input")).to_have_value("Refund approved? @mehmet ")
    ayse.keyboard.press("Enter")

    for inbox in (ayse, mehmet):
        note = inbox.locator(NOTES)
        expect(note).to_have_count(1)
        expect(note.locator(".body")).to_have_text("Refund approved? @mehmet")
        expect(note.locator(".msg-author")).to_have_text("Private note · ayse")
    alert = mehmet.locator("#mention-alerts .mention-alert")
    expect(alert).to_contain_text("ayse mentioned you")
    expect(ayse.locator("#mention-alerts .mention-alert")).to_have_count(0)

    # A reply after it reaches the visitor; the note, before it, never did.
    ayse.click("#mode-reply")
    ayse.fill("#reply-input", "We are looking into it.")
    ayse.keyboard.press("Enter")
    expect(visitor.locator("#messages")).to_contain_text("We are looking into it.")
    expect(visitor.locator("body")).not_to_contain_text("Refund approved")

    assert visitor.errors == [] and ayse.errors == [] and mehmet.errors == []


def test_notes_load_in_time_order_and_a_transfer_leaves_one(
    operator_page: Any,
) -> None:
    mehmet = operator_page("mehmet")
    thread = in_background(conversation_with_a_note, author="mehmet")
    ayse = operator_page("ayse")

    open_thread(ayse)
    expect(ayse.locator("#messages .msg .body")).to_have_text(
        ["first question", "Known customer", "second question"]
    )
    ayse.click("#transfer-thread")
    expect(ayse.locator("#transfer-operator")).to_be_focused()
    assert_accessible(ayse, exclude=STOCK_ADMIN)
    ayse.select_option("#transfer-operator", label="mehmet")
    ayse.fill("#transfer-note", "VIP customer")
    ayse.click("#transfer-submit")

    alert = mehmet.locator("#mention-alerts .mention-alert")
    expect(alert).to_contain_text("Transferred to mehmet: VIP customer")
    expect(ayse.locator(NOTES).last).to_contain_text("Transferred to mehmet: VIP")
    expect(ayse.locator("#assign-select option:checked")).to_have_text("mehmet")
    alert.locator(".mention-alert-open").click()
    expect(mehmet.locator("#conversation")).to_have_attribute(
        "data-thread-id", str(thread)
    )
    expect(mehmet.locator(NOTES)).to_have_count(2)
    assert ayse.errors == [] and mehmet.errors == []


def conversation_with_a_note(*, author: str) -> int:
    """A visitor's message, a note, another message (through the services)."""
    import uuid

    from accounts.models import User
    from chat import services
    from chat.models import Thread, Visitor

    thread = Thread.objects.create(visitor=Visitor.objects.create())
    for body in ("first question", None, "second question"):
        if body is None:
            operator = User.objects.get(username=author)
            services.add_note(
                thread_id=thread.pk, author=operator, body="Known customer"
            )
        else:
            services.post_message(
                thread_id=thread.pk, client_id=uuid.uuid4(), body=body
            )
    return thread.pk
