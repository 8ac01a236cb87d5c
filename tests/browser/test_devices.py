"""Continue on another device, in real browsers: a phone shows a code, a laptop
types it (another opens the QR code's link, another types it in the widget), all
of them see and write the same conversation live; signing out one device leaves
the others."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.axe import violations
from tests.browser.pages import SENT, focus_reply_box_as_dialog_closes, send_as_visitor
from tests.browser.test_widget import (  # noqa: F401 - the fixture
    HostSite,
    host_page,
    host_site,
    open_panel,
)

BODIES = "#messages .message .body"


def get_code(page: Any, button: str = "#device-show") -> dict[str, Any]:
    """Click the dialog's button for a code; the server's answer."""
    with page.expect_response("**/device/code/") as answer:
        page.locator(button).click()
    expect(page.locator("#device-code")).to_have_text(answer.value.json()["code"])
    return dict(answer.value.json())


def test_a_code_takes_the_conversation_to_other_browsers(
    new_context: Any, visitor_page: Any, transactional_db: None
) -> None:
    phone = visitor_page()
    send_as_visitor(phone, "Hello from the phone")
    expect(phone.locator(SENT)).to_have_count(1)
    phone.locator("#device-button").click()
    dialog = phone.locator("#device-dialog")
    expect(dialog).to_be_visible()
    code = get_code(phone)
    expect(phone.locator("#device-qr")).to_have_attribute(
        "src", code["qr"]
    )  # an image of the link, shown under the page's CSP
    assert phone.locator("#device-qr").evaluate("img => img.naturalWidth") > 0
    assert violations(phone) == []
    phone.emulate_media(color_scheme="dark")
    assert violations(phone) == []
    phone.emulate_media(color_scheme="light")

    # The laptop types the code at /continue/ and lands on the conversation.
    laptop = new_context().new_page()
    laptop.goto("/continue/")
    laptop.fill("#continue-code", code["code"].lower())
    laptop.locator("#continue-form button[type=submit]").click()
    expect(laptop).to_have_url(phone.url)
    expect(phone.locator("#device-expiry")).to_have_text(
        "Another device has joined this conversation."
    )
    expect(laptop.locator(BODIES)).to_have_text(["Hello from the phone"])
    send_as_visitor(laptop, "Hello from the laptop")
    expect(phone.locator(BODIES)).to_have_text(
        ["Hello from the phone", "Hello from the laptop"]
    )

    # Used once: typed again, it says so.
    late = new_context().new_page()
    late.goto("/continue/")
    late.fill("#continue-code", code["code"])
    late.locator("#continue-form button[type=submit]").click()
    expect(late.locator("#continue-error")).to_contain_text("already used")
    assert violations(late) == []

    # A tablet opens the QR code's link (the code in its fragment).
    link = get_code(phone, "#device-show")["link"]
    tablet = new_context().new_page()
    tablet.goto(link)
    expect(tablet.locator("#continue-from-link")).to_be_visible()  # whose code?
    expect(tablet.locator("#continue-code")).to_have_value(link.split("#")[1])
    assert "#" not in tablet.url
    tablet.keyboard.press("Enter")  # the focused button: continue here
    expect(tablet.locator(BODIES)).to_have_text(
        ["Hello from the phone", "Hello from the laptop"]
    )

    # The laptop signs out: it forgets the conversation, the others keep it.
    laptop.locator("#device-button").click()
    laptop.locator("#device-sign-out").click()
    assert violations(laptop) == []
    laptop.locator("#device-sign-out-yes").click()
    expect(laptop.locator("#device-dialog")).to_be_hidden()
    expect(laptop.locator("#welcome")).to_be_visible()
    expect(laptop.locator("#device-button")).to_be_focused()
    expect(laptop.locator(BODIES)).to_have_count(0)
    expect(laptop.locator("#connection-state")).to_have_attribute("data-state", "open")
    send_as_visitor(laptop, "A new chat")
    expect(laptop.locator(SENT)).to_have_count(1)
    send_as_visitor(tablet, "Still here")
    expect(phone.locator(BODIES)).to_have_text(
        ["Hello from the phone", "Hello from the laptop", "Still here"]
    )
    expect(laptop.locator(BODIES)).to_have_text(["A new chat"])
    laptop.reload()
    expect(laptop.locator(BODIES)).to_have_text(["A new chat"])
    assert phone.errors == []


def test_a_code_typed_in_the_widget(
    new_context: Any,
    visitor_page: Any,
    host_site: HostSite,  # noqa: F811 - the fixture
    transactional_db: None,
) -> None:
    phone = visitor_page()
    send_as_visitor(phone, "Started on the page")
    expect(phone.locator(SENT)).to_have_count(1)
    phone.locator("#device-button").click()
    code = get_code(phone)

    shop = host_page(new_context, host_site.allowed + "/")
    frame = open_panel(shop)
    frame.locator("#device-button").click()
    assert violations(next(f for f in shop.frames if "/widget/frame/" in f.url)) == []
    frame.locator("#device-code-input").fill("WRONG-123")
    frame.locator("#device-enter-button").click()
    expect(frame.locator("#device-enter-error")).to_contain_text("8 letters")
    frame.locator("#device-code-input").fill(code["code"])
    frame.locator("#device-enter-button").click()
    expect(frame.locator("#device-dialog")).to_be_hidden()
    expect(frame.locator(BODIES)).to_have_text(["Started on the page"])
    frame.locator("#composer-input").fill("And now in the shop")
    frame.locator("#send-button").click()
    expect(phone.locator(BODIES)).to_have_text(
        ["Started on the page", "And now in the shop"]
    )
    # The shop's next page load keeps it (the loader took the new token).
    shop.reload()
    frame = open_panel(shop)
    expect(frame.locator(BODIES)).to_have_text(
        ["Started on the page", "And now in the shop"]
    )
    # Signed out in the widget: the panel starts afresh, the page keeps it.
    frame.locator("#device-button").click()
    frame.locator("#device-sign-out").click()
    frame.locator("#device-sign-out-yes").click()
    expect(frame.locator("#welcome")).to_be_visible()
    expect(frame.locator(BODIES)).to_have_count(0)
    # The dialog gave the focus back to its button (before typing elsewhere).
    expect(frame.locator("#device-button")).to_be_focused()
    # Its socket reconnects with the new session, as on the page above.
    expect(frame.locator("#connection-state")).to_have_attribute("data-state", "open")
    frame.locator("#composer-input").fill("Someone else now")
    # What was typed stays in the box, which stays usable (says which failed).
    expect(frame.locator("#composer-input")).to_have_value("Someone else now")
    expect(frame.locator("#composer-input")).to_be_enabled()
    expect(frame.locator("#send-button")).to_be_enabled()
    frame.locator("#send-button").click()
    expect(frame.locator(SENT)).to_have_count(1)
    phone.locator("#device-close").click()
    send_as_visitor(phone, "Back on the page")
    expect(phone.locator(BODIES)).to_have_text(
        ["Started on the page", "And now in the shop", "Back on the page"]
    )
    expect(frame.locator(BODIES)).to_have_text(["Someone else now"])
    wrong_code = "the server responded with a status of 400"  # WRONG-123
    assert [e for e in shop.errors if wrong_code not in e] == []
    assert phone.errors == []


def test_typing_just_after_the_dialog_closes_keeps_the_focus_and_the_text(
    visitor_page: Any,
) -> None:
    """The dialog's close event comes a moment after it closed: whoever already
    went on to the reply box keeps it (the event's focus move lost typed text)."""
    page = visitor_page()
    page.locator("#device-button").click()
    expect(page.locator("#device-dialog")).to_be_visible()
    focused = focus_reply_box_as_dialog_closes(page, "device-dialog")
    assert focused == "composer-input"
    page.keyboard.type("still mine")
    expect(page.locator("#composer-input")).to_have_value("still mine")
    expect(page.locator("#send-button")).to_be_enabled()
