"""The delivery promise as the pages keep it, through the one client library
(static/chat/lib: outbox, seq tracker, client): a message live delivery dropped is
fetched, one the server could not take yet is sent again, one it refused can be
edited, and an unsent reply survives a reload; each stored once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from chat.models import Message, Thread
from tests.browser.pages import SENT, open_thread, send_as_visitor
from tests.conftest import store_burst

pytestmark = pytest.mark.django_db(transaction=True)


def intercept_sends(page: Any, path: str, answer: Any) -> list[dict[str, Any]]:
    """Route the page's socket through Playwright to the real server; each
    message.send goes to ``answer(frame)``: a frame for the page instead of the
    server, or None to pass it on. Returns the message.send frames seen."""
    seen: list[dict[str, Any]] = []

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "message.send":
                seen.append(frame)
                reply = answer(frame)
                if reply is not None:
                    ws.send(json.dumps(reply))
                    return
            server.send(message)

        ws.on_message(from_page)

    page.route_web_socket(f"**{path}", route)
    return seen


def bodies() -> list[str]:
    return list(Message.objects.order_by("seq").values_list("body", flat=True))


def test_a_message_live_delivery_dropped_is_fetched_by_both_pages(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "one")
    expect(visitor.locator(SENT)).to_have_count(1)
    open_thread(inbox)
    expect(inbox.locator("#messages .body")).to_have_text(["one"])
    store_burst(Thread.objects.get().pk, 1)  # stored, its live event lost
    send_as_visitor(visitor, "three")  # its seq jumps over the lost one
    expected = ["one", "burst 0", "three"]
    expect(visitor.locator("#messages .message .body")).to_have_text(expected)
    expect(inbox.locator("#messages .msg .body")).to_have_text(expected)
    assert bodies() == expected
    assert visitor.errors == [] and inbox.errors == []


def test_a_message_the_server_could_not_take_is_sent_again_once(
    new_context: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    page = new_context().new_page()
    refused: list[str] = []

    def unavailable_once(frame: dict[str, Any]) -> Any:
        if refused:
            return None
        refused.append(frame["client_id"])
        return {
            "type": "error",
            "code": "unavailable",
            "detail": "Try again later.",
            "client_id": frame["client_id"],
        }

    seen = intercept_sends(page, "/ws/chat/", unavailable_once)
    page.goto("/")
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "open")
    send_as_visitor(page, "kept")
    send_as_visitor(page, "after it")
    expect(page.locator(SENT)).to_have_count(2, timeout=15_000)  # after a back-off
    expect(page.locator("#messages .message .body")).to_have_text(["kept", "after it"])
    assert bodies() == ["kept", "after it"]
    assert [f["client_id"] for f in seen].count(refused[0]) == 2
    open_thread(inbox)
    expect(inbox.locator("#messages .msg .body")).to_have_text(["kept", "after it"])


def test_a_refused_message_can_be_edited_and_sent_again(new_context: Any) -> None:
    page = new_context().new_page()
    intercept_sends(
        page,
        "/ws/chat/",
        lambda f: (
            None
            if "fixed" in f["body"]
            else {
                "type": "error",
                "code": "invalid",
                "detail": "This message was refused.",
                "client_id": f["client_id"],
            }
        ),
    )
    page.goto("/")
    send_as_visitor(page, "first try")
    failed = page.locator('#messages [data-status="failed"]')
    expect(failed).to_contain_text("This message was refused.")
    failed.locator('[data-action="edit"]').click()
    expect(page.locator("#messages .message")).to_have_count(0)
    expect(page.locator("#composer-input")).to_have_value("first try")
    page.fill("#composer-input", "first try, fixed")
    page.click("#send-button")
    expect(page.locator(SENT)).to_have_count(1)
    assert bodies() == ["first try, fixed"]


def test_an_operator_reply_the_server_could_not_take_shows_why_and_retries(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "Hello")
    expect(visitor.locator(SENT)).to_have_count(1)
    answers: list[Any] = [
        {"type": "error", "code": "rate_limited", "detail": "Too many messages."}
    ]

    def first_refused(frame: dict[str, Any]) -> Any:
        if not answers:
            return None
        return dict(answers.pop(), client_id=frame["client_id"])

    intercept_sends(inbox, "/ws/operator/", first_refused)
    inbox.reload()
    open_thread(inbox)
    inbox.fill("#reply-input", "On my way")
    inbox.click("#reply-send")
    reply = inbox.locator("#messages .author-operator")
    expect(reply).to_have_attribute("data-status", "failed")
    expect(reply.locator(".msg-state")).to_have_text("Not sent: Too many messages.")
    reply.locator(".msg-retry").click()
    expect(reply).to_have_attribute("data-status", "sent")
    expect(visitor.locator("#messages .author-operator .body")).to_have_text(
        ["On my way"]
    )
    assert bodies() == ["Hello", "On my way"]


def test_an_unanswered_reply_is_sent_after_a_reload_once(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "Hello")
    expect(visitor.locator(SENT)).to_have_count(1)
    held = [True]  # the first page's replies never reach the server

    intercept_sends(
        inbox, "/ws/operator/", lambda f: {"type": "pong"} if held else None
    )
    inbox.reload()
    open_thread(inbox)
    inbox.fill("#reply-input", "Still there?")
    inbox.click("#reply-send")
    expect(
        inbox.locator('#messages .author-operator[data-status="pending"]')
    ).to_have_count(1)
    held.clear()
    inbox.reload()  # the tab's outbox (sessionStorage) still has it
    open_thread(inbox)
    expect(
        inbox.locator('#messages .author-operator[data-status="sent"]')
    ).to_have_count(1)
    expect(visitor.locator("#messages .author-operator .body")).to_have_text(
        ["Still there?"]
    )
    assert bodies() == ["Hello", "Still there?"]


def test_a_long_conversation_opens_on_its_latest_page_and_pages_back(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "first")
    expect(visitor.locator(SENT)).to_have_count(1)
    store_burst(Thread.objects.get().pk, 210)  # longer than one sync page (200)
    # A fresh page of the same browser, with nothing kept: the old page is closed
    # first (it writes its cache lazily, and might write it after a clear).
    url, context = visitor.url, visitor.context
    visitor.close()
    context.add_init_script("localStorage.clear()")
    visitor = context.new_page()
    visitor.goto(url)
    shown = visitor.locator("#messages .message")
    expect(shown).to_have_count(50)  # the latest history page
    expect(shown.last.locator(".body")).to_have_text("burst 209")
    visitor.click("#load-earlier")
    expect(shown).to_have_count(100)
    open_thread(inbox)
    rows = inbox.locator("#messages .msg")
    expect(rows).to_have_count(50)
    inbox.click("#load-earlier")
    expect(rows).to_have_count(100)
    expect(rows.last.locator(".body")).to_have_text("burst 209")
