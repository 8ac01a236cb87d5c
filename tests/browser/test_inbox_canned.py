"""Canned replies in the inbox's reply box: "/" opens the list, the keyboard alone
chooses, placeholders are filled, and the visitor gets the text (and the file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from chat.models import CannedReply, Visitor
from chat.services.canned import save_canned_reply
from chat.uploads import clean_upload
from tests.browser.axe import violations
from tests.browser.pages import SENT, open_thread, send_as_visitor
from tests.samples import png

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_MESSAGES = "#messages .author-operator"


def test_slash_chooses_a_saved_reply_by_keyboard_and_the_visitor_gets_it(
    visitor_page: Any, operator_page: Any, settings: Any
) -> None:
    settings.MEDIA_ROOT = ROOT / ".tmp" / "test-media"  # the server's
    CannedReply.objects.create(
        shortcut="hello",
        title="Greeting",
        body="Hi {visitor_name}, I am {operator_name} from {team_name}.",
    )
    CannedReply.objects.create(
        shortcut="help", title="Offer help", body="How can I help?"
    )
    save_canned_reply(
        reply=CannedReply(shortcut="map", title="Our address", body="Here is the map."),
        file=clean_upload(png(), name="map.png"),
    )
    inbox = operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "Where are you?")
    expect(visitor.locator(SENT)).to_have_count(1)
    Visitor.objects.update(name="Elif")
    open_thread(inbox)
    expect(inbox.locator("#conversation-title")).to_have_text("Elif")

    box = inbox.locator("#reply-input")
    box.focus()
    box.press_sequentially("Sure. /he")
    menu, options = (
        inbox.locator("#canned-menu"),
        inbox.locator("#canned-list [role=option]"),
    )
    expect(menu).to_be_visible()
    expect(options).to_have_count(2)  # /hello and /help, not /map
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    first_id = options.nth(0).get_attribute("id")
    expect(box).to_have_attribute("aria-activedescendant", first_id or "")
    expect(box).to_have_attribute("aria-controls", "canned-list")
    assert violations(inbox) == []
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")  # round to the first again
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    box.press("Enter")  # inserts; does not send
    expect(menu).to_be_hidden()
    expect(box).to_have_value(
        f"Sure. Hi Elif, I am ayse from {settings.SOHBET_SITE_NAME}."
    )
    expect(box).not_to_have_attribute("aria-activedescendant", first_id or "")
    box.press("Enter")  # sends
    text = f"Sure. Hi Elif, I am ayse from {settings.SOHBET_SITE_NAME}."
    expect(visitor.locator(OPERATOR_MESSAGES + " .body")).to_have_text([text])

    box.press_sequentially("/nothing")
    expect(inbox.locator("#canned-empty")).to_have_text(
        "No saved reply matches “nothing”."
    )
    box.press("Escape")  # closes the list, keeps the text
    expect(menu).to_be_hidden()
    expect(box).to_have_value("/nothing")
    box.fill("")

    box.press_sequentially("/ma")
    box.press("Tab")
    expect(box).to_have_value("Here is the map.")
    expect(box).to_be_focused()
    expect(inbox.locator("#canned-file-name")).to_have_text("With the file map.png")
    box.press("Enter")
    image = visitor.locator(OPERATOR_MESSAGES + " .attachment-image img")
    expect(image).to_have_count(1)
    expect(image).to_have_js_property("naturalWidth", 64)
    expect(visitor.locator(OPERATOR_MESSAGES + " .body").nth(1)).to_have_text(
        "Here is the map."
    )
    expect(inbox.locator("#canned-file")).to_be_hidden()
    assert visitor.errors == [] and inbox.errors == []
