"""Request bodies through the web process as deployed: a body over the limit is
refused with 413 before it is stored, whatever its transfer encoding and path, the
process's memory does not grow with it, and its WebSockets keep answering."""

from __future__ import annotations

import asyncio
import json
import os
import select
import socket
import time
import urllib.error
import urllib.request
import uuid
from http.cookies import SimpleCookie

import pytest
from django.conf import settings

from tests.deploy.client import Peer, open_visitor
from tests.deploy.conftest import Processes
from tests.deploy.servers import Daphne

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]

HUGE = 100 * 1024 * 1024
BOUNDARY = "sohbetboundary"


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


def send_huge_body(server: Daphne, *, chunked: bool, path: str) -> tuple[str, float]:
    """POST a 100 MB multipart body as a browser would (reading the answer while it
    sends): the answer's status line and the seconds it took to come."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n'
    ).encode()
    headers = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}",
    ]
    piece = os.urandom(64 * 1024)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        sent, answer = 0, b""
        body = [head]
        while sent < HUGE and not answer:
            data = body.pop() if body else piece
            framed = b"%x\r\n%s\r\n" % (len(data), data) if chunked else data
            _, writable, _ = select.select([], [sock], [], 1)
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                answer = sock.recv(65536)
                break
            if writable:
                try:
                    sock.sendall(framed)
                except OSError:
                    break
                sent += len(data)
        deadline = time.monotonic() + 20
        while b"\r\n" not in answer and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    elapsed = time.monotonic() - started
    return answer.split(b"\r\n", 1)[0].decode("latin1"), elapsed


async def pings_answered(peer: Peer, until: asyncio.Future[object]) -> list[float]:
    """Ping every 0.1 s until ``until`` is done: the seconds each pong took."""
    delays = []
    while not until.done():
        sent = time.monotonic()
        await peer.send(type="ping")
        await peer.next("pong", timeout=5)
        delays.append(time.monotonic() - sent)
        await asyncio.wait({until}, timeout=0.1)
    return delays


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_huge_body_is_refused_with_413_without_memory_or_stalled_sockets(
    processes: Processes, peers: list[Peer], chunked: bool
) -> None:
    server = await asyncio.to_thread(processes.daphne)
    cookie = await asyncio.to_thread(visit_with_csrf, server)
    visitor = await open_visitor(server, cookie["header"], peers)
    assert server.pid is not None
    before = peak_rss_mib(server.pid)

    sending = asyncio.ensure_future(
        asyncio.to_thread(send_huge_body, server, chunked=chunked, path="/api/uploads/")
    )
    delays = await pings_answered(visitor, sending)
    status, elapsed = await sending

    assert status.startswith("HTTP/1.1 413"), status
    assert elapsed < 5
    assert peak_rss_mib(server.pid) - before < 32
    assert max(delays) < 1
    # The socket is as it was.
    await visitor.send(type="ping")
    await visitor.next("pong")


async def test_a_huge_body_is_refused_on_any_path(processes: Processes) -> None:
    server = await asyncio.to_thread(processes.daphne)
    for path in ("/", "/admin/login/", "/no/such/page/"):
        status, _ = await asyncio.to_thread(
            send_huge_body, server, chunked=False, path=path
        )
        assert status.startswith("HTTP/1.1 413"), (path, status)


async def test_the_413_says_why_in_the_clients_language(
    processes: Processes,
) -> None:
    server = await asyncio.to_thread(processes.daphne)
    request = urllib.request.Request(  # noqa: S310
        server.http + "/api/uploads/",
        data=b"x" * (settings.SOHBET_MAX_REQUEST_BYTES + 1),
        headers={"Accept-Language": "tr", "Content-Type": "application/pdf"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        await asyncio.to_thread(urllib.request.urlopen, request, timeout=20)
    assert refused.value.code == 413
    error = json.loads(refused.value.read())["error"]
    assert error["code"] == "too_large"
    assert "çok büyük" in error["detail"]


async def test_an_upload_larger_than_the_memory_spool_arrives_intact(
    processes: Processes, peers: list[Peer]
) -> None:
    server = await asyncio.to_thread(processes.daphne)
    cookie = await asyncio.to_thread(visit_with_csrf, server)
    await open_visitor(server, cookie["header"], peers)  # the visitor's thread
    content = b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024)

    status, answer = await asyncio.to_thread(upload, server, cookie, content)
    assert status == 201, answer
    request = urllib.request.Request(  # noqa: S310
        server.http + answer["url"], headers={"Cookie": cookie["header"]}
    )
    with await asyncio.to_thread(urllib.request.urlopen, request, timeout=20) as got:
        assert got.read() == content


def visit_with_csrf(server: Daphne) -> dict[str, str]:
    """GET the chat page as a new browser: its session and CSRF cookies."""
    with urllib.request.urlopen(server.http + "/", timeout=10) as response:  # noqa: S310
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
    values = {name: morsel.value for name, morsel in jar.items()}
    values["header"] = "; ".join(f"{name}={value}" for name, value in values.items())
    values["csrf"] = values[settings.CSRF_COOKIE_NAME]
    return values


def upload(server: Daphne, cookie: dict[str, str], content: bytes) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="doc.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(  # noqa: S310
        server.http + "/api/uploads/",
        data=body,
        headers={
            "Cookie": cookie["header"],
            "X-CSRFToken": cookie["csrf"],
            "Origin": server.http,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
