"""A person typing or pasting fast never trips the server's limits: the pages pace
what they send (the limits come in hello). A real flood close is shown as such."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from chat.models import Message
from tests.browser.pages import RECORD_STATES, open_thread, send_as_visitor, states

pytestmark = pytest.mark.django_db(transaction=True)

BURST = 40  # in about two seconds, over SOHBET_WS_RATE (30 per 10 s)

SEND_BURST = """
async ([input, button, count]) => {
  for (let n = 0; n < count; n++) {
    const box = document.querySelector(input);
    box.value = "burst " + n;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    document.querySelector(button).click();
    await new Promise((done) => setTimeout(done, 50));
  }
}
"""


def test_a_burst_from_the_visitor_arrives_whole_without_going_offline(
    visitor_page: Any, operator_page: Any, new_context: Any
) -> None:
    inbox = operator_page()
    context = new_context()
    context.add_init_script(RECORD_STATES)
    visitor = visitor_page(context)
    visitor.evaluate(SEND_BURST, ["#composer-input", "#send-button", BURST])
    stored = visitor.locator(
        "#messages .author-visitor"
        ':not([data-status="pending"]):not([data-status="failed"])'
    )
    expect(stored).to_have_count(BURST, timeout=30_000)  # paced: about 3 a second
    assert states(visitor) == ["connecting", "open"]
    expect(visitor.locator("#toast")).to_be_hidden()
    bodies = list(Message.objects.order_by("seq").values_list("body", flat=True))
    assert bodies == [f"burst {n}" for n in range(BURST)]
    open_thread(inbox)
    expect(inbox.locator("#messages .author-visitor")).to_have_count(BURST)
    assert visitor.errors == [] and inbox.errors == []


def test_a_burst_of_replies_from_the_inbox_arrives_whole_without_going_offline(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    inbox.add_init_script(RECORD_STATES)
    inbox.reload()
    visitor = visitor_page()
    send_as_visitor(visitor, "Hello")
    open_thread(inbox)
    inbox.evaluate(SEND_BURST, ["#reply-input", "#reply-send", BURST])
    sent = inbox.locator('#messages .author-operator[data-status="sent"]')
    expect(sent).to_have_count(BURST, timeout=30_000)
    assert states(inbox) == ["connecting", "open"]
    expect(visitor.locator("#messages .author-operator")).to_have_count(BURST)
    replies = Message.objects.filter(author="operator").order_by("seq")
    assert list(replies.values_list("body", flat=True)) == [
        f"burst {n}" for n in range(BURST)
    ]


def test_a_flood_close_is_shown_as_such_with_the_time_left(new_context: Any) -> None:
    # The page paces itself and cannot flood: a proxy between it and the real server
    # sends the server pings enough for a flood close (4429), which it passes on.
    context = new_context()
    context.add_init_script(RECORD_STATES)
    page = context.new_page()
    server_sides: list[Any] = []

    def proxy(ws: Any) -> None:
        server_sides.append(ws.connect_to_server())

    page.route_web_socket("**/ws/chat/", proxy)
    page.goto("/")
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "open")
    line = page.locator("#connection-state")
    # SOHBET_WS_FLOOD: 60 per 10 s, refilled as they go (6 a second), and each send
    # from here takes a while on a busy machine: on until the server closes.
    for n in range(1, 601):
        server_sides[-1].send('{"type":"ping"}')
        if n >= 60 and n % 20 == 0 and line.get_attribute("data-state") != "open":
            break
    expect(line).to_have_attribute("data-state", "limited")
    expect(line).to_be_visible()
    expect(line).to_contain_text("Too many messages at once. Sending again in")
    first = page.locator("#connection-text").text_content() or ""
    seconds = int("".join(ch for ch in first if ch.isdigit()))
    assert 25 <= seconds <= 30
    expect(line).not_to_contain_text(first)  # it counts down
    assert "offline" not in states(page)
