"""Attachments in the pages: a pasted screenshot and a recorded voice note, in Chromium
with its fake microphone, reach the operator's inbox."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from chat.models import Attachment
from tests.browser.pages import focus_reply_box_as_dialog_closes

pytestmark = pytest.mark.django_db(transaction=True)


def png_base64() -> str:
    out = io.BytesIO()
    Image.new("RGB", (32, 20), (250, 120, 0)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


SENT = ':not([data-status="pending"]):not([data-status="uploading"])'
IMAGE = '#messages .message[data-attachment-kind="image"]'
AUDIO = '#messages .message[data-attachment-kind="audio"]'

PASTE_IMAGE = """
async (b64) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const file = new File([bytes], "screenshot.png", {type: "image/png"});
  const data = new DataTransfer();
  data.items.add(file);
  const event = new ClipboardEvent(
    "paste", {clipboardData: data, bubbles: true, cancelable: true});
  document.querySelector("#composer-input").dispatchEvent(event);
}
"""


def test_pasted_screenshot_and_voice_note_reach_the_operator(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    visitor.evaluate(PASTE_IMAGE, png_base64())
    expect(visitor.locator("#attachment-preview .remove")).to_have_count(1)
    visitor.fill("#composer-input", "here is the error")
    visitor.click("#send-button")
    expect(visitor.locator(IMAGE + SENT)).to_have_count(1)

    visitor.click("#record-button")
    expect(visitor.locator("#recorder")).to_be_visible()
    # A second of sound recorded (the panel shows mm:ss).
    expect(visitor.locator("#recorder-time")).not_to_have_text("00:00")
    visitor.click("#recorder-send")
    expect(visitor.locator(AUDIO + SENT)).to_have_count(1)

    inbox.locator("#thread-list [data-thread-id]").first.click()
    inbox_image = '#messages .msg[data-attachment-kind="image"] .attachment-image img'
    inbox_audio = '#messages .msg[data-attachment-kind="audio"] .attachment-audio audio'
    expect(inbox.locator(inbox_image)).to_have_count(1)
    expect(inbox.locator(inbox_audio)).to_have_count(1)
    expect(inbox.locator("#messages .author-visitor .body").first).to_have_text(
        "here is the error"
    )
    expect(inbox.locator(inbox_image)).to_have_js_property("naturalWidth", 32)
    kinds = sorted(Attachment.objects.values_list("kind", "content_type"))
    assert kinds[0] == ("audio", "audio/webm") and kinds[1] == ("image", "image/png")


def test_a_refused_file_is_explained_and_not_sent(visitor_page: Any) -> None:
    visitor = visitor_page()
    visitor.set_input_files(
        "#file-input",
        files=[
            {
                "name": "cat.png",
                "mimeType": "image/png",
                "buffer": b"<html>not an image",
            }
        ],
    )
    expect(visitor.locator("#attachment-preview .remove")).to_have_count(1)
    visitor.click("#send-button")
    failed = visitor.locator('#messages [data-status="failed"]')
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("not accepted")
    assert Attachment.objects.count() == 0


def test_the_picture_viewer_gives_the_focus_back_unless_someone_went_on(
    visitor_page: Any,
) -> None:
    visitor = visitor_page()
    visitor.evaluate(PASTE_IMAGE, png_base64())
    visitor.click("#send-button")
    expect(visitor.locator(IMAGE + SENT)).to_have_count(1)
    opener = visitor.locator(IMAGE + " .attachment-open")
    opener.click()
    expect(visitor.locator("#media-viewer")).to_be_visible()
    visitor.keyboard.press("Escape")
    expect(visitor.locator("#media-viewer")).to_be_hidden()
    expect(opener).to_be_focused()  # back where the person was
    # Its close event comes a moment after it closed: someone already in the reply
    # box stays there.
    opener.click()
    expect(visitor.locator("#media-viewer")).to_be_visible()
    focused = focus_reply_box_as_dialog_closes(visitor, "media-viewer")
    assert focused == "composer-input"
