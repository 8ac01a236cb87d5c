"""Through a proxy that refuses WebSockets (as some corporate proxies and antivirus
products do), the visitor page falls back to HTTP (docs/protocol.md, "HTTP fallback")
and keeps every promise: messages acked once stored, an operator's reply live, a
reload that keeps the conversation, nothing lost or stored twice."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from chat.models import Message
from tests.browser.conftest import LiveServer, collect_page_errors
from tests.browser.pages import SENT, open_thread, send_as_visitor
from tests.deploy.servers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

REFUSAL = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
HEAD_LIMIT = 64 * 1024


class RefusingProxy:
    """A TCP proxy on 127.0.0.1 that forwards HTTP to ``target_port`` and answers
    403 to every WebSocket upgrade. Each connection carries one request (its
    ``Connection`` header is made ``close``), so that every request is seen."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.refused: list[str] = []  # paths of refused upgrades
        self.forwarded: list[str] = []  # "METHOD path" of forwarded requests
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> RefusingProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        lines = head.decode("latin1").split("\r\n")
        request_line, fields = lines[0], [line for line in lines[1:] if line]
        names = {line.split(":", 1)[0].strip().lower(): line for line in fields}
        method, path = request_line.split(" ")[:2]
        upgrade = names.get("upgrade", "").split(":", 1)[-1].strip().lower()
        if upgrade == "websocket":
            self.refused.append(path)
            writer.write(REFUSAL)
            await writer.drain()
            writer.close()
            return
        self.forwarded.append(f"{method} {path}")
        kept = [
            line
            for line in fields
            if line.split(":", 1)[0].strip().lower() not in ("connection", "keep-alive")
        ]
        new_head = "\r\n".join([request_line, *kept, "Connection: close", "", ""])
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            writer.close()
            return
        upstream_writer.write(new_head.encode("latin1"))
        await asyncio.gather(
            self._pipe(reader, upstream_writer),
            self._pipe(upstream_reader, writer),
        )

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            try:
                writer.close()
            except Exception:  # noqa: S110 - already closed
                pass


@pytest.fixture
def proxy(daphne_server: LiveServer) -> Iterator[RefusingProxy]:
    port = int(daphne_server.url.rsplit(":", 1)[1])
    running = RefusingProxy(port).start()
    yield running
    running.stop()


@pytest.fixture
def proxied_context(
    browser: Any, proxy: RefusingProxy, new_context: Any
) -> Iterator[Any]:
    """A browser context whose pages load through the proxy. Closed before
    ``new_context``'s pages, whose clean-up waits for every page's sockets."""
    context = browser.new_context(base_url=proxy.url)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def open_visitor(context: Any) -> Any:
    page = context.new_page()
    page.errors = collect_page_errors(page)
    page.goto("/")
    page.wait_for_selector('#connection-state[data-state="open"]', state="attached")
    return page


def real_errors(page: Any) -> list[str]:
    """The page's errors, less Chromium's own line about each refused socket."""
    return [e for e in page.errors if "WebSocket" not in e]


def test_a_visitor_behind_a_proxy_that_refuses_websockets_chats_over_http(
    proxy: RefusingProxy, proxied_context: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    visitor = open_visitor(proxied_context)
    assert proxy.refused, "the page tried a WebSocket first"
    assert "POST /http/chat/stream" in proxy.forwarded

    send_as_visitor(visitor, "Merhaba, proxy here")
    expect(visitor.locator(SENT)).to_have_count(1)  # acked: stored
    open_thread(inbox)
    expect(inbox.locator("#messages .author-visitor .body")).to_have_text(
        ["Merhaba, proxy here"]
    )

    inbox.fill("#reply-input", "Hoş geldiniz!")
    inbox.click("#reply-send")
    expect(visitor.locator("#messages .author-operator .body")).to_have_text(
        ["Hoş geldiniz!"]
    )

    # A reload goes straight to HTTP (the browser remembers) and keeps everything.
    refused_before = len(proxy.refused)
    visitor.reload()
    visitor.wait_for_selector('#connection-state[data-state="open"]', state="attached")
    expect(visitor.locator("#messages .body")).to_have_text(
        ["Merhaba, proxy here", "Hoş geldiniz!"]
    )
    assert len(proxy.refused) == refused_before
    send_as_visitor(visitor, "Still here after a reload")
    expect(visitor.locator(SENT)).to_have_count(2)
    expect(inbox.locator("#messages .author-visitor .body")).to_have_text(
        ["Merhaba, proxy here", "Still here after a reload"]
    )

    stored = list(Message.objects.order_by("seq").values_list("seq", "body"))
    assert stored == [
        (1, "Merhaba, proxy here"),
        (2, "Hoş geldiniz!"),
        (3, "Still here after a reload"),
    ]
    assert real_errors(visitor) == [] and inbox.errors == []


def test_a_page_on_http_goes_back_to_a_websocket_once_one_gets_through(
    new_context: Any,
) -> None:
    context = new_context()
    # As if this browser had fallen back to HTTP a while ago: its choice ends soon,
    # but not before the page has read it, however slowly a loaded machine loads it
    # (with 1 s, a slow load found the choice expired and never tried HTTP).
    context.add_init_script(
        "localStorage.setItem('sohbet.transport',"
        " JSON.stringify({http_until: Date.now() + 6000}))"
    )
    page = context.new_page()
    page.errors = collect_page_errors(page)
    sent_on_socket: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framesent",
            lambda payload: sent_on_socket.append(str(payload)),
        ),
    )
    with page.expect_request("**/http/chat/stream"):
        page.goto("/")
    page.wait_for_selector('#connection-state[data-state="open"]', state="attached")
    send_as_visitor(page, "over HTTP")
    expect(page.locator(SENT)).to_have_count(1)

    # The probe socket says hello and takes the connection over.
    wait_until(
        lambda: page.evaluate("localStorage.getItem('sohbet.transport')") is None,
        timeout=30,
        what="the socket took the connection over",
    )
    page.wait_for_selector('#connection-state[data-state="open"]', state="attached")
    send_as_visitor(page, "over the socket")
    expect(page.locator(SENT)).to_have_count(2)
    assert any("over the socket" in frame for frame in sent_on_socket)
    assert list(Message.objects.order_by("seq").values_list("body", flat=True)) == [
        "over HTTP",
        "over the socket",
    ]
    assert page.errors == []
