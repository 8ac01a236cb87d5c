"""The visitor page and the admin inbox, in Chromium, against a real Daphne."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from chat.models import Message
from tests.browser.pages import open_thread, send_as_visitor

pytestmark = pytest.mark.django_db(transaction=True)


def test_visitor_and_operator_talk_both_ways(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "Hello, is anyone there?")
    expect(
        visitor.locator('#messages .author-visitor:not([data-status="pending"])')
    ).to_have_count(1)

    row = inbox.locator("#thread-list [data-thread-id]")
    expect(row).to_have_count(1)
    expect(row.locator(".preview")).to_have_text("Hello, is anyone there?")
    open_thread(inbox)
    expect(inbox.locator("#messages .author-visitor .body")).to_have_text(
        ["Hello, is anyone there?"]
    )

    inbox.fill("#reply-input", "Yes, how can I help?")
    inbox.click("#reply-send")
    expect(visitor.locator("#messages .author-operator .body")).to_have_text(
        ["Yes, how can I help?"]
    )
    expect(
        inbox.locator('#messages .author-operator[data-status="sent"]')
    ).to_have_count(1)
    assert visitor.errors == [] and inbox.errors == []


def test_reload_keeps_the_whole_conversation(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    for text in ("one", "two", "three"):
        send_as_visitor(visitor, text)
    expect(
        visitor.locator('#messages .author-visitor:not([data-status="pending"])')
    ).to_have_count(3)
    open_thread(inbox)
    inbox.fill("#reply-input", "four")
    inbox.click("#reply-send")
    expect(visitor.locator("#messages .author-operator")).to_have_count(1)

    visitor.evaluate(
        "localStorage.clear()"
    )  # the server, not the browser cache, is the record
    visitor.reload()
    expect(visitor.locator("#messages .message .body")).to_have_text(
        ["one", "two", "three", "four"]
    )


def test_messages_typed_offline_arrive_exactly_once(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "before")
    expect(
        visitor.locator('#messages .author-visitor:not([data-status="pending"])')
    ).to_have_count(1)

    visitor.context.set_offline(True)
    expect(visitor.locator("#connection-state")).to_have_attribute(
        "data-state", "offline"
    )
    send_as_visitor(visitor, "offline one")
    send_as_visitor(visitor, "offline two")
    expect(visitor.locator('#messages [data-status="pending"]')).to_have_count(2)

    visitor.context.set_offline(False)
    expect(
        visitor.locator('#messages .author-visitor:not([data-status="pending"])')
    ).to_have_count(3)
    open_thread(inbox)
    expect(inbox.locator("#messages .author-visitor .body")).to_have_text(
        ["before", "offline one", "offline two"]
    )
    bodies = list(Message.objects.order_by("seq").values_list("body", flat=True))
    assert bodies == ["before", "offline one", "offline two"]


def test_markup_in_a_message_is_shown_as_text_and_runs_nothing(
    visitor_page: Any, operator_page: Any
) -> None:
    payload = "<img src=x onerror=alert(1)> <script>alert(2)</script>"
    dialogs: list[str] = []
    inbox = operator_page()
    visitor = visitor_page()
    for page in (inbox, visitor):
        page.on(
            "dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss())
        )
    send_as_visitor(visitor, payload)
    open_thread(inbox)
    expect(inbox.locator("#messages .author-visitor .body")).to_have_text([payload])
    expect(visitor.locator("#messages .author-visitor .body")).to_have_text([payload])
    assert inbox.locator("#messages img").count() == 0
    assert visitor.locator("#messages img").count() == 0
    inbox.fill("#reply-input", payload)
    inbox.click("#reply-send")
    expect(visitor.locator("#messages .author-operator .body")).to_have_text([payload])
    assert dialogs == []


def test_links_are_clickable_only_for_safe_schemes(
    visitor_page: Any, operator_page: Any
) -> None:
    operator_page()
    visitor = visitor_page()
    send_as_visitor(visitor, "see https://example.com/a?b=1 and javascript:alert(1)")
    link = visitor.locator("#messages .author-visitor .body a")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", "https://example.com/a?b=1")


def test_a_burst_committed_together_reaches_the_inbox_in_one_frame_in_order(
    visitor_page: Any, operator_page: Any
) -> None:
    import asyncio
    import json
    from concurrent.futures import ThreadPoolExecutor

    from realtime import delivery
    from tests.conftest import store_burst

    inbox = operator_page()
    frames: list[dict[str, Any]] = []
    inbox.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda data: frames.append(json.loads(data))),
    )
    inbox.reload()  # its socket again, now watched
    visitor = visitor_page()
    send_as_visitor(visitor, "first")
    open_thread(inbox)
    expect(inbox.locator("#messages .author-visitor .body")).to_have_text(["first"])
    thread_id = int(inbox.locator("#conversation").get_attribute("data-thread-id"))

    # Three messages stored in one transaction and sent as the writer sends a batch.
    sent = store_burst(thread_id)
    with ThreadPoolExecutor(1) as other:  # Playwright runs a loop in this thread
        other.submit(asyncio.run, delivery.send(sent)).result(timeout=30)

    expected = ["first", "burst 0", "burst 1", "burst 2"]
    expect(inbox.locator("#messages .author-visitor .body")).to_have_text(expected)
    expect(visitor.locator("#messages .author-visitor .body")).to_have_text(expected)
    batched = [f for f in frames if f.get("type") == "messages"]
    assert [[m["body"] for m in f["messages"]] for f in batched] == [expected[1:]]
    assert visitor.errors == [] and inbox.errors == []


def test_the_page_script_speaks_the_visitors_language(new_context: Any) -> None:
    # What the modules write come from Django's JavaScript catalog (lib/i18n.js).
    page = new_context(locale="tr-TR").new_page()
    page.goto("/")
    page.fill("#composer-input", "Merhaba")
    page.click("#send-button")
    message = page.locator("#messages .author-visitor")
    expect(message.locator(".author")).to_have_text("Siz")
    expect(message.locator(".tick")).to_have_attribute("aria-label", "Gönderildi")
    expect(page.locator("#messages .day-separator")).to_have_text("Bugün")
