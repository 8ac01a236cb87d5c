"""What the page tests do again and again: send, open a thread, wait for acks."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

SENT = '#messages .author-visitor:not([data-status="pending"])'


def send_as_visitor(page: Any, text: str) -> None:
    page.fill("#composer-input", text)
    page.click("#send-button")


def open_thread(inbox: Any) -> None:
    inbox.locator("#thread-list [data-thread-id]").first.click()
    expect(inbox.locator("#conversation")).to_have_attribute(
        "data-thread-id", re.compile(r"\d+")
    )


# Every data-state the connection line takes, in order (window.__states).
RECORD_STATES = """
document.addEventListener("DOMContentLoaded", () => {
  window.__states = [];
  const line = document.querySelector("#connection-state");
  const note = () => {
    const state = line.getAttribute("data-state");
    if (window.__states[window.__states.length - 1] !== state) {
      window.__states.push(state);
    }
  };
  note();
  new MutationObserver(note).observe(line, { attributes: true });
});
"""


def states(page: Any) -> list[str]:
    return list(page.evaluate("window.__states"))


def focus_reply_box_as_dialog_closes(page: Any, dialog_id: str) -> str:
    """Close the dialog and focus the reply box in one script, then wait for the
    dialog's close event (Chromium fires it a moment later); the id of what has
    the focus after it."""
    return str(
        page.evaluate(
            """async (id) => {
                const dialog = document.getElementById(id);
                const closed = new Promise((done) =>
                    dialog.addEventListener("close", done, { once: true }));
                dialog.close();
                document.getElementById("composer-input").focus();
                await closed;
                return document.activeElement.id;
            }""",
            dialog_id,
        )
    )
