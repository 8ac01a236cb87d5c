"""The widget on another site: a host page on http://localhost:<port> (allowed), the
chat on http://127.0.0.1:<port> (another site: its frame is a third party, whose
cookies and storage Chromium blocks), and a page on 127.0.0.1 that is not allowed."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from chat.models import Visitor
from chat.services.identity import user_hash
from tests.browser.axe import violations
from tests.browser.conftest import LiveServer, collect_page_errors
from tests.browser.pages import RECORD_STATES, SENT, open_thread

# In the panel's frame only (the init script runs in every frame).
PANEL_STATES = RECORD_STATES.replace(
    'document.addEventListener("DOMContentLoaded", () => {',
    'document.addEventListener("DOMContentLoaded", () => {\n'
    '  if (!document.querySelector("#connection-state")) return;',
)

HOST_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%(title)s</title></head>
<body><h1>%(title)s</h1><p><a href="/other">Another page</a></p>
<button id="host-button">A button of the site</button>
<script>window.sohbetSettings = %(settings)s;
window.__events = [];
window.Sohbet = [["on", "unread", (n) => window.__events.push("unread:" + n)],
                 ["on", "open", () => window.__events.push("open")],
                 ["on", "close", () => window.__events.push("close")],
                 ["on", "message", (m) => window.__events.push("message:" + m.author)]];
</script>
<script src="%(chat)s/widget.js" async></script>
%(extra)s
</body></html>"""


class HostSite:
    def __init__(self, chat: str) -> None:
        chat_url = chat

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                settings: dict[str, Any] = {}
                if "user" in query:
                    user_id = query["user"][0]
                    settings["user"] = {
                        "user_id": user_id,
                        "name": "Ada",
                        "user_hash": query.get("hash", [user_hash(user_id)])[0],
                    }
                extra = ""
                if "direct" in query:  # the frame itself, framed without the loader
                    extra = (
                        f'<iframe id="direct" src="{chat_url}/widget/frame/"></iframe>'
                    )
                body = HOST_PAGE % {
                    "title": "Shop: other" if url.path == "/other" else "Shop",
                    "settings": json.dumps(settings),
                    "chat": chat_url,
                    "extra": extra,
                }
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def allowed(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def not_allowed(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def host_site(daphne_server: LiveServer) -> Iterator[HostSite]:
    site = HostSite(daphne_server.url)
    yield site
    site.stop()


def host_page(new_context: Any, url: str, **options: Any) -> Any:
    page = new_context(**options).new_page()
    page.errors = collect_page_errors(page)
    page.goto(url)
    return page


def open_panel(page: Any) -> Any:
    page.locator("#sohbet-widget button.launcher").click()
    frame = page.frame_locator("#sohbet-widget iframe")
    expect(frame.locator("#connection-state")).to_have_attribute("data-state", "open")
    return frame


def the_frame(page: Any) -> Any:
    return next(f for f in page.frames if "/widget/frame/" in f.url)


def test_a_conversation_in_the_widget_on_another_site(
    new_context: Any, operator_page: Any, host_site: HostSite, transactional_db: None
) -> None:
    inbox = operator_page()
    page = host_page(new_context, host_site.allowed + "/")
    launcher = page.locator("#sohbet-widget button.launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert page.locator("#sohbet-widget iframe").count() == 0, "loaded when needed"
    frame = open_panel(page)
    # The frame is a third party: the browser gives it no cookies and no storage.
    access = the_frame(page).evaluate(
        """async () => {
            let storage = "usable";
            try { localStorage.getItem("x"); } catch (e) { storage = "blocked"; }
            return [await document.hasStorageAccess(), storage, document.cookie];
        }"""
    )
    assert access == [False, "blocked", ""]
    frame.locator("#composer-input").fill("Hello from the shop")
    frame.locator("#send-button").click()
    expect(frame.locator(SENT)).to_have_count(1)
    open_thread(inbox)
    expect(inbox.locator("#messages .body")).to_have_text(["Hello from the shop"])
    inbox.fill("#reply-input", "Welcome!")
    inbox.click("#reply-send")
    expect(frame.locator("#messages .message .body")).to_have_text(
        ["Hello from the shop", "Welcome!"]
    )
    # Another page of the site, then a reload: the same conversation.
    page.locator("text=Another page").click()
    expect(page).to_have_title("Shop: other")
    frame = open_panel(page)
    expect(frame.locator("#messages .message .body")).to_have_text(
        ["Hello from the shop", "Welcome!"]
    )
    page.reload()
    frame = open_panel(page)
    expect(frame.locator("#messages .message .body")).to_have_text(
        ["Hello from the shop", "Welcome!"]
    )
    assert page.errors == [] and inbox.errors == []


def test_unread_badge_keyboard_and_the_host_api(
    new_context: Any, operator_page: Any, host_site: HostSite, transactional_db: None
) -> None:
    inbox = operator_page()
    page = host_page(new_context, host_site.allowed + "/")
    frame = open_panel(page)
    frame.locator("#composer-input").fill("Anyone there?")
    frame.locator("#send-button").click()
    expect(frame.locator(SENT)).to_have_count(1)
    # Esc closes the panel and gives the focus back to the launcher.
    frame.locator("#composer-input").press("Escape")
    launcher = page.locator("#sohbet-widget button.launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_be_focused()
    expect(page.locator("#sohbet-widget .panel")).to_be_hidden()
    open_thread(inbox)
    inbox.fill("#reply-input", "Yes, we are!")
    inbox.click("#reply-send")
    badge = page.locator("#sohbet-widget .badge")
    expect(badge).to_have_text("1")
    expect(launcher).to_have_attribute("aria-label", re.compile("1 unread message"))
    page.evaluate("window.Sohbet.open()")
    expect(badge).to_be_hidden()
    expect(frame.locator("#messages .message .body")).to_have_text(
        ["Anyone there?", "Yes, we are!"]
    )
    page.evaluate("window.Sohbet.toggle()")
    expect(page.locator("#sohbet-widget .panel")).to_be_hidden()
    assert page.evaluate("window.__events") == [
        "open",
        "close",
        "message:operator",
        "unread:1",
        "unread:0",
        "open",
        "close",
    ]
    assert page.errors == [] and inbox.errors == []


def test_the_panel_is_full_screen_on_a_phone_and_passes_axe(
    new_context: Any, host_site: HostSite, transactional_db: None
) -> None:
    page = host_page(
        new_context, host_site.allowed + "/", viewport={"width": 375, "height": 700}
    )
    open_panel(page)
    box = page.locator("#sohbet-widget .panel").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 375, "height": 700}
    assert violations(the_frame(page)) == []
    assert violations(page) == []


def test_a_site_not_allowed_gets_nothing(
    new_context: Any, host_site: HostSite, transactional_db: None
) -> None:
    page = host_page(new_context, host_site.not_allowed + "/?direct=1")
    page.wait_for_load_state("load")
    expect(page.locator("#sohbet-widget")).to_have_count(0)
    assert any("is not allowed to show the chat" in e for e in page.errors)
    # The frame itself, framed without the loader: the browser refuses it.
    # (The page's load event waits for its frames.)
    assert any("frame-ancestors http://localhost:*" in e for e in page.errors)
    assert not any("/widget/frame/" in frame.url for frame in page.frames)


def test_identify_with_a_good_hash_follows_the_user_and_a_bad_one_is_refused(
    new_context: Any, host_site: HostSite, transactional_db: None
) -> None:
    laptop = host_page(new_context, host_site.allowed + "/?user=u-100")
    frame = open_panel(laptop)
    frame.locator("#composer-input").fill("Where is my order?")
    frame.locator("#send-button").click()
    expect(frame.locator(SENT)).to_have_count(1)
    user = Visitor.objects.get(external_id="u-100")
    assert user.identity_verified and user.name == "Ada"
    # Another browser (a phone), signed in as the same user: the same conversation.
    phone = host_page(new_context, host_site.allowed + "/?user=u-100")
    on_phone = open_panel(phone)
    expect(on_phone.locator("#messages .message .body")).to_have_text(
        ["Where is my order?"]
    )
    # A forged hash: refused, the visitor stays anonymous.
    forged = host_page(new_context, host_site.allowed + "/?user=u-200&hash=" + "0" * 64)
    open_panel(forged)  # connected after the frame's identify was answered
    assert any("identify refused" in e for e in forged.errors)
    assert not Visitor.objects.filter(external_id="u-200").exists()
    assert laptop.errors == [] and phone.errors == []


def test_signing_in_on_the_site_keeps_the_conversation_going(
    new_context: Any, host_site: HostSite, transactional_db: None
) -> None:
    """identify() after the chat began (a single-page site's login): the session is
    rotated, the socket reconnects with the new token, nothing is lost."""
    context = new_context()
    context.add_init_script(PANEL_STATES)
    page = context.new_page()
    page.errors = collect_page_errors(page)
    page.goto(host_site.allowed + "/")
    frame = open_panel(page)
    frame.locator("#composer-input").fill("Before signing in")
    frame.locator("#send-button").click()
    expect(frame.locator(SENT)).to_have_count(1)
    token = page.evaluate(
        "Object.keys(localStorage).map((k) => localStorage[k]).join()"
    )
    user = {"user_id": "u-300", "name": "Grace", "user_hash": user_hash("u-300")}
    page.evaluate("(user) => window.Sohbet.identify(user)", user)
    # The socket was closed (its session's key rotated) and opened again.
    the_frame(page).wait_for_function(
        "() => window.__states.lastIndexOf('open') > window.__states.indexOf('open')"
    )
    rotated = page.evaluate(
        "Object.keys(localStorage).map((k) => localStorage[k]).join()"
    )
    assert rotated != token
    frame.locator("#composer-input").fill("After signing in")
    frame.locator("#send-button").click()
    expect(frame.locator(SENT)).to_have_count(2)
    grace = Visitor.objects.get(external_id="u-300")
    bodies = list(
        grace.threads.get().messages.order_by("seq").values_list("body", flat=True)
    )
    assert bodies == ["Before signing in", "After signing in"]
    assert page.errors == []


def test_operators_see_the_host_page_and_attributes_of_a_widget_visitor(
    new_context: Any, operator_page: Any, host_site: HostSite, transactional_db: None
) -> None:
    """The visitor panel shows the page of the site the visitor is on (not the
    frame's address), updated as they go, and what the site passes in
    setAttributes."""
    page = host_page(new_context, host_site.allowed + "/")
    frame = open_panel(page)
    frame.locator("#composer-input").fill("Is this in stock?")
    frame.locator("#send-button").click()
    expect(frame.locator(SENT)).to_have_count(1)
    inbox = operator_page()
    inbox.set_viewport_size({"width": 1600, "height": 900})
    open_thread(inbox)
    panel = inbox.locator("#visitor-panel")
    page_link = panel.locator(".visitor-link").first
    expect(page_link).to_have_attribute("href", host_site.allowed + "/")
    expect(panel).to_contain_text("Shop")
    page.locator("text=Another page").click()
    expect(page_link).to_have_attribute("href", host_site.allowed + "/other")
    expect(panel).to_contain_text("Shop: other")
    page.evaluate("window.Sohbet.setAttributes({plan: 'pro', seats: 12})")
    expect(panel).to_contain_text("plan")
    expect(panel).to_contain_text("pro")
    assert page.errors == [] and inbox.errors == []
