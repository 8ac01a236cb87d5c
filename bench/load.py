#!/usr/bin/env python3
"""Load generator for Sohbet's WebSocket message path (see docs/performance.md).

Drives a running server the way browsers do, on 127.0.0.1 only:

* each visitor GETs ``/`` for a real session cookie, opens ``/ws/chat/`` with that
  cookie and an ``Origin`` header, waits for ``hello`` and sends ``sync`` (as the
  visitor page does); then sends ``message.send`` frames at ``--rate`` messages per
  second (jittered, fresh ``client_id`` each) for ``--duration`` seconds, and records
  the latency of every ``ack``;
* each operator logs in through ``/admin/login/`` (CSRF token and all, like a
  browser; all operator sockets share one login), opens ``/ws/operator/``, asks for
  ``threads`` and records every live ``message`` frame written by a visitor: its
  delivery latency (the send time travels in the body), duplicates, and which acked
  messages never arrived live ("missing");
* ``--rate 0`` holds the sockets idle for ``--duration`` seconds (pinging every
  ``--ping-interval`` seconds like the page) and reports what they cost the server.

Visitors are split over ``--processes`` client processes (the client competes with
the server for the same cores); operators run in the parent, which aggregates. With
``--server-pid`` the server's VmRSS (before connecting, with every socket held, at the
end) and CPU time are read from /proc.

The visitor page is rate-limited per client IP (120/min), and new conversations per
network (``SOHBET_NEW_THREADS_PER_NETWORK``, 20 an hour): each visitor connects from a
loopback source address of its own, as on the Internet (127.R.x.y; ``--visitors-per-ip``
to share them; every 127/8 address is local on Linux). Every connection goes to
127.0.0.1.

Usage (the server must lift the per-connection frame limits for rates above
3 msg/s, e.g. SOHBET_WS_RATE=100000/1 SOHBET_WS_FLOOD=200000/1):

    .venv/bin/python bench/load.py --url http://127.0.0.1:8001 \\
        --visitors 200 --operators 2 --rate 4 --duration 30 \\
        --operator-user bench --operator-password "$PASSWORD" \\
        --server-pid "$DAPHNE_PID" --processes 2 [--json out.json]

    # idle sockets and memory
    .venv/bin/python bench/load.py --url http://127.0.0.1:8001 --visitors 5000 \\
        --rate 0 --duration 30 --server-pid "$DAPHNE_PID" --processes 2

Every phase is bounded (connect phase, duration, drain, close); the run ends by
itself. Exit status: 0 when every acked message reached every operator and nothing
was duplicated or unacked, 1 otherwise, 2 on a usage or setup error.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

try:
    from websockets.asyncio.client import ClientConnection
    from websockets.asyncio.client import connect as ws_connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus
except ImportError:  # pragma: no cover - told to the user below
    ws_connect = None  # type: ignore[assignment,misc]

LOOPBACK = "127.0.0.1"
CLOCK = time.monotonic  # CLOCK_MONOTONIC: one clock for every process of the host

# --- small helpers -------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of unsorted values (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def worst_by_second(sent_at: list[float], latency: list[float]) -> list[float]:
    """The worst delivery latency (ms) of the messages sent in each second of the
    window: a stall shows as a run of high seconds, a long tail as spread ones."""
    if not sent_at:
        return []
    start = min(sent_at)
    worst: dict[int, float] = {}
    for sent, lat in zip(sent_at, latency, strict=True):
        second = int(sent - start)
        worst[second] = max(worst.get(second, 0.0), lat)
    return [round(worst.get(i, 0.0) * 1000, 1) for i in range(max(worst) + 1)]


def after_first_seconds(
    sent_at: list[float], latency: list[float], seconds: float = 2.0
) -> list[float]:
    """The latencies of messages sent after the window's first ``seconds``: without
    the first message of each conversation when every visitor starts at once
    (scenario a), the steady state."""
    if not sent_at:
        return []
    start = min(sent_at) + seconds
    return [lat for sent, lat in zip(sent_at, latency, strict=True) if sent >= start]


def summary_ms(values: list[float]) -> dict[str, Any]:
    """p50 / p99 / max of latencies given in seconds, in milliseconds."""

    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000, 2)

    return {
        "count": len(values),
        "p50_ms": ms(percentile(values, 50)),
        "p99_ms": ms(percentile(values, 99)),
        "max_ms": ms(max(values) if values else None),
    }


def start_py_spy(
    args: argparse.Namespace, pid: int | None
) -> subprocess.Popen[bytes] | None:
    """py-spy on the server for the window (--py-spy FILE), GIL holder only."""
    if not args.py_spy or not pid:
        return None
    seconds = max(1, int(args.duration) - 1)
    command = [
        os.path.join(os.path.dirname(sys.executable), "py-spy"), "record",
        "--pid", str(pid), "--duration", str(seconds), "--rate", "200",
        "--threads", "--gil", "--nonblocking", "--format", "raw", "-o", args.py_spy,
    ]  # fmt: skip
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def read_rss_kib(pid: int | None) -> int | None:
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def read_cpu_seconds(pid: int | None) -> float | None:
    """utime + stime of one process, in seconds."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_delta(before: float | None, after: float | None) -> float | None:
    """CPU seconds between two readings, None when either is missing."""
    if before is None or after is None:
        return None
    return round(after - before, 2)


def read_tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a process and its live direct children (PostgreSQL backends)."""
    total = read_cpu_seconds(pid)
    if total is None:
        return None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def read_thread_cpu(pid: int | None) -> dict[int, float]:
    """CPU seconds of each thread of a process, by thread id."""
    found: dict[int, float] = {}
    if not pid:
        return found
    tick = os.sysconf("SC_CLK_TCK")
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def read_host_cpu() -> tuple[float, float, float]:
    """(busy, total, stolen) jiffies of the whole host from /proc/stat; stolen: the
    time the hypervisor ran something else while this machine's CPUs had work
    (counted in busy)."""
    with open("/proc/stat") as fh:
        values = [int(x) for x in fh.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    steal = values[7] if len(values) > 7 else 0
    return sum(values) - idle, sum(values), steal


def source_address(index: int, per_ip: int, salt: int) -> str | None:
    """The loopback source address of visitor ``index`` (None = the default one)."""
    if per_ip <= 0:
        return None
    block = index // per_ip
    return f"127.{salt}.{block // 250}.{block % 250 + 1}"


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def named_cookie(cookies: dict[str, str], name: str) -> dict[str, str]:
    """The cookie called ``name`` (``sessionid``, ``csrftoken``) as the server names
    it: with the ``__Host-`` prefix under production settings. Empty if absent."""
    for candidate in (f"__Host-{name}", name):
        if candidate in cookies:
            return {candidate: cookies[candidate]}
    return {}


def parse_set_cookies(values: list[str]) -> dict[str, str]:
    """Cookie values from Set-Cookie headers (Secure ones too: we talk to 127.0.0.1
    over plain HTTP the way a TLS-terminating proxy would)."""
    found: dict[str, str] = {}
    for value in values:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(value)
        except Exception:  # noqa: S112 - a malformed cookie is just skipped
            continue
        for name, morsel in jar.items():
            found[name] = morsel.value
    return found


async def http_get(
    port: int, path: str, *, src: str | None, timeout: float, headers: dict[str, str]
) -> tuple[int, dict[str, str]]:
    """A minimal HTTP/1.1 GET to 127.0.0.1: (status, cookies set)."""

    async def run() -> tuple[int, dict[str, str]]:
        reader, writer = await asyncio.open_connection(
            LOOPBACK, port, local_addr=(src, 0) if src else None
        )
        try:
            lines = [
                f"GET {path} HTTP/1.1",
                f"Host: {LOOPBACK}:{port}",
                "Connection: close",
                "Accept: text/html",
                "User-Agent: sohbet-bench/1",
            ] + [f"{k}: {v}" for k, v in headers.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin1"))
            await writer.drain()
            raw = await reader.read()  # Connection: close -> until EOF
        finally:
            writer.close()
        head = raw.split(b"\r\n\r\n", 1)[0].decode("latin1").split("\r\n")
        status = int(head[0].split()[1])
        set_cookies = [
            line.split(":", 1)[1].strip()
            for line in head[1:]
            if line.lower().startswith("set-cookie:")
        ]
        return status, parse_set_cookies(set_cookies)

    return await asyncio.wait_for(run(), timeout)


def login_operator(port: int, username: str, password: str) -> str:
    """Log in through the admin login form like a browser; returns a Cookie header."""
    origin = f"http://{LOOPBACK}:{port}"
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
    conn.request("GET", "/admin/login/?next=/admin/", headers={"Accept": "text/html"})
    resp = conn.getresponse()
    page = resp.read().decode("utf-8", "replace")
    cookies = parse_set_cookies(resp.headers.get_all("Set-Cookie") or [])
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if resp.status != 200 or not match or not named_cookie(cookies, "csrftoken"):
        raise RuntimeError(f"admin login page: HTTP {resp.status}, no CSRF token")
    form = urlencode(
        {
            "csrfmiddlewaretoken": match.group(1),
            "username": username,
            "password": password,
            "next": "/admin/",
        }
    )
    conn.request(
        "POST",
        "/admin/login/?next=/admin/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie_header(cookies),
            "Origin": origin,
            "Referer": origin + "/admin/login/",
        },
    )
    resp = conn.getresponse()
    resp.read()
    cookies.update(parse_set_cookies(resp.headers.get_all("Set-Cookie") or []))
    conn.close()
    if resp.status != 302 or not named_cookie(cookies, "sessionid"):
        raise RuntimeError(
            f"admin login failed: HTTP {resp.status} (wrong user or password, "
            "or a second factor is required)"
        )
    return cookie_header(cookies)


def close_code_of(exc: BaseException | None, ws: Any) -> str:
    code = None
    if isinstance(exc, ConnectionClosed):
        if exc.rcvd is not None:
            code = exc.rcvd.code
        elif exc.sent is not None:
            code = exc.sent.code
    if code is None and ws is not None:
        code = ws.close_code
    return str(code) if code is not None else "1006"


async def open_socket(
    port: int, path: str, cookie: str, *, src: str | None, timeout: float
) -> ClientConnection:
    return await ws_connect(
        f"ws://{LOOPBACK}:{port}{path}",
        additional_headers={"Cookie": cookie},
        origin=f"http://{LOOPBACK}:{port}",  # type: ignore[arg-type]
        compression=None,
        proxy=None,
        open_timeout=timeout,
        ping_interval=None,  # browsers do not ping; the page sends "ping" frames
        close_timeout=5,
        max_queue=4096,
        local_addr=(src, 0) if src else None,
    )


async def wait_for_hello(ws: ClientConnection, timeout: float) -> dict[str, Any]:
    deadline = CLOCK() + timeout
    while True:
        raw = await asyncio.wait_for(ws.recv(), max(0.01, deadline - CLOCK()))
        frame = json.loads(raw)
        if frame.get("type") == "hello":
            return frame


class LoopLag:
    """How late this process's event loop wakes up: the client's own saturation."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        step = 0.05
        while True:
            before = CLOCK()
            await asyncio.sleep(step)
            self.samples.append(max(0.0, CLOCK() - before - step))

    def stop(self) -> dict[str, Any]:
        if self.task:
            self.task.cancel()
        return summary_ms(self.samples)


# --- visitors (in worker processes) --------------------------------------------------


@dataclass
class Visitor:
    index: int
    ws: ClientConnection | None = None
    pending: dict[str, float] = field(default_factory=dict)  # client_id -> sent at
    acked: set[str] = field(default_factory=set)
    echoed: set[str] = field(default_factory=set)
    closing: bool = False
    sent: int = 0
    first_cid: str = ""  # --arrivals: the conversation's first message
    arrived_at: float = 0.0  # --arrivals: when its GET / began
    background: bool = False  # --background: open, written, at --background-rate


@dataclass
class WorkerStats:
    connected: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)  # unexpected, by code
    errors: Counter[str] = field(default_factory=Counter)  # error frames, by code
    sent: int = 0
    ack_latency: list[float] = field(default_factory=list)
    acked_ids: list[int] = field(default_factory=list)
    duplicate_acks: int = 0
    refused: int = 0  # message.send answered by an error frame
    frames_in: int = 0
    first_ack_latency: list[float] = field(default_factory=list)  # --arrivals
    arrival_latency: list[float] = field(default_factory=list)  # GET / -> first ack


class VisitorWorker:
    def __init__(self, args: argparse.Namespace, indexes: list[int], salt: int):
        self.args = args
        self.port = urlsplit(args.url).port or 80
        self.visitors = [Visitor(i, background=i < args.background) for i in indexes]
        self.salt = salt
        self.stats = WorkerStats()
        self.readers: list[asyncio.Task[None]] = []

    async def connect_all(self) -> None:
        before = self.visitors
        if self.args.arrivals > 0 and not self.args.open_first:
            # Each visitor connects at its arrival, in the window.
            before = [v for v in self.visitors if v.background]
        if not before:
            return
        gate = asyncio.Semaphore(self.args.connect_concurrency)

        async def one(v: Visitor) -> None:
            async with gate:
                await self.connect(v)

        tasks = [asyncio.create_task(one(v)) for v in before]
        done, pending = await asyncio.wait(tasks, timeout=self.args.connect_phase)
        for task in pending:
            task.cancel()
            self.stats.failed["connect phase timeout"] += 1
        await asyncio.gather(*pending, return_exceptions=True)

    async def connect(self, v: Visitor) -> None:
        src = source_address(v.index, self.args.visitors_per_ip, self.salt)
        timeout = self.args.connect_timeout
        try:
            status, cookies = await http_get(
                self.port, "/", src=src, timeout=timeout, headers={}
            )
            session = named_cookie(cookies, "sessionid")
            if status != 200 or not session:
                self.stats.failed[f"GET / HTTP {status}"] += 1
                return
            ws = await open_socket(
                self.port,
                "/ws/chat/",
                cookie_header(session),
                src=src,
                timeout=timeout,
            )
        except InvalidStatus as exc:
            self.stats.failed[f"handshake HTTP {exc.response.status_code}"] += 1
            return
        except TimeoutError:
            self.stats.failed["timeout"] += 1
            return
        except OSError as exc:
            self.stats.failed[f"{type(exc).__name__} {exc.errno}"] += 1
            return
        except Exception as exc:
            self.stats.failed[type(exc).__name__] += 1
            return
        try:
            await wait_for_hello(ws, timeout)
            await ws.send('{"type":"sync","after":0}')
            if self.args.written or v.background:
                await self.warm_up(ws, timeout)
        except ConnectionClosed as exc:
            self.stats.failed[f"closed {close_code_of(exc, ws)} before hello"] += 1
            return
        except TimeoutError:
            self.stats.failed["no hello"] += 1
            await ws.close()
            return
        v.ws = ws
        self.stats.connected += 1
        self.readers.append(asyncio.create_task(self.read(v)))

    async def warm_up(self, ws: ClientConnection, timeout: float) -> None:
        """--written: one message before the window, so that the conversation is
        written and what arrives later is an ordinary message."""
        cid = str(uuid.uuid4())
        body = f"warm|v|{'x' * self.args.payload}"
        await ws.send(
            json.dumps({"type": "message.send", "client_id": cid, "body": body})
        )
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("type") == "ack" and frame.get("client_id") == cid:
                    return

    async def read(self, v: Visitor) -> None:
        assert v.ws is not None
        stats = self.stats
        try:
            async for raw in v.ws:
                now = CLOCK()
                stats.frames_in += 1
                if not isinstance(raw, str):
                    continue
                if raw.startswith('{"type":"ack"'):
                    frame = json.loads(raw)
                    cid = frame.get("client_id")
                    sent_at = v.pending.pop(cid, None)
                    if sent_at is not None:
                        stats.ack_latency.append(now - sent_at)
                        stats.acked_ids.append(frame["id"])
                        v.acked.add(cid)
                        if cid == v.first_cid:
                            stats.first_ack_latency.append(now - sent_at)
                            stats.arrival_latency.append(now - v.arrived_at)
                    elif cid in v.acked:
                        stats.duplicate_acks += 1
                elif raw.startswith('{"type":"message"'):
                    message = json.loads(raw)["message"]
                    if message.get("author") == "visitor":
                        v.echoed.add(message.get("client_id"))
                elif raw.startswith('{"type":"error"'):
                    frame = json.loads(raw)
                    stats.errors[frame.get("code", "?")] += 1
                    if v.pending.pop(frame.get("client_id"), None) is not None:
                        stats.refused += 1
        except ConnectionClosed as exc:
            if not v.closing:
                stats.closes[close_code_of(exc, v.ws)] += 1
            return
        if not v.closing:
            stats.closes[close_code_of(None, v.ws)] += 1

    async def send_loop(
        self, v: Visitor, start: float, end: float, rate: float = 0.0
    ) -> None:
        interval = 1.0 / (rate or self.args.rate)
        next_at = start + random.uniform(0, interval)
        while True:
            delay = next_at - CLOCK()
            if delay > 0:
                await asyncio.sleep(delay)
            if CLOCK() >= end or not await self.send_one(v):
                return
            next_at += interval * random.uniform(0.5, 1.5)

    async def send_one(self, v: Visitor) -> bool:
        """One message.send (its number in the body: 0 is the conversation's
        first); False when the socket is gone."""
        if v.ws is None:
            return False
        now = CLOCK()
        cid = str(uuid.uuid4())
        body = f"bench|{now:.6f}|v{v.index}|{v.sent}|{'x' * self.args.payload}"
        frame = json.dumps({"type": "message.send", "client_id": cid, "body": body})
        v.pending[cid] = now
        if v.sent == 0 and not v.background:
            v.first_cid = cid
        try:
            await v.ws.send(frame)
        except ConnectionClosed:
            v.pending.pop(cid, None)
            return False
        v.sent += 1
        return True

    async def arrive(self, v: Visitor, at: float, end: float) -> None:
        """--arrivals: at ``at`` the visitor opens the page (GET /, the socket,
        hello, sync) and sends its first message at once; then at --rate."""
        await asyncio.sleep(max(0.0, at - CLOCK()))
        v.arrived_at = CLOCK()
        if not self.args.open_first:
            await self.connect(v)
        if v.ws is None or not await self.send_one(v):
            return
        if self.args.ping_interval > 0 and not self.args.open_first:
            self.readers.append(asyncio.create_task(self.ping_loop(v, end)))
        if self.args.rate > 0:
            await self.send_loop(v, CLOCK(), end)

    async def ping_loop(self, v: Visitor, end: float) -> None:
        interval = self.args.ping_interval
        await asyncio.sleep(random.uniform(0, interval))
        while CLOCK() < end and v.ws is not None:
            try:
                await v.ws.send('{"type":"ping"}')
            except ConnectionClosed:
                return
            await asyncio.sleep(interval)

    async def run_window(self, start: float) -> None:
        end = start + self.args.duration
        if self.args.arrivals > 0:
            step = 1.0 / self.args.arrivals
            first = self.args.background
            tasks = [
                asyncio.create_task(
                    self.arrive(v, start + (v.index - first) * step, end)
                )
                for v in self.visitors
                if not (v.background or self.args.hold)
            ]
            # Open now: the background, and the arrivals with --open-first.
            live = [v for v in self.visitors if v.ws is not None]
            if self.args.ping_interval > 0:
                self.readers += [
                    asyncio.create_task(self.ping_loop(v, end)) for v in live
                ]
            rate = self.args.background_rate
            tasks += [
                asyncio.create_task(self.send_loop(v, start, end, rate))
                for v in live
                if v.background and rate > 0
            ]
            await asyncio.sleep(max(0.0, end - CLOCK()))
            if tasks:  # none in an idle twin (--hold) without a background
                await asyncio.wait(tasks, timeout=self.args.connect_timeout + 5)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.stats.sent = sum(v.sent for v in self.visitors)
            return
        live = [v for v in self.visitors if v.ws is not None]
        pings = []
        if self.args.ping_interval > 0:
            pings = [asyncio.create_task(self.ping_loop(v, end)) for v in live]
        senders = []
        if self.args.rate > 0:
            senders = [asyncio.create_task(self.send_loop(v, start, end)) for v in live]
        await asyncio.sleep(max(0.0, end - CLOCK()))
        if senders:  # each stops by itself at `end`; a blocked send gets 5 s more
            await asyncio.wait(senders, timeout=5)
        for task in pings + senders:
            task.cancel()
        await asyncio.gather(*pings, *senders, return_exceptions=True)
        self.stats.sent = sum(v.sent for v in self.visitors)

    async def drain(self, deadline: float) -> None:
        while CLOCK() < deadline:
            if not any(v.pending and v.ws is not None for v in self.visitors):
                return
            await asyncio.sleep(0.05)

    def held(self) -> int:
        return sum(
            1
            for v in self.visitors
            if v.ws is not None and v.ws.close_code is None and not v.closing
        )

    async def close_all(self) -> None:
        gate = asyncio.Semaphore(200)

        async def one(v: Visitor) -> None:
            async with gate:
                v.closing = True
                if v.ws is not None:
                    try:
                        await asyncio.wait_for(v.ws.close(), 10)
                    except Exception:  # noqa: S110 - closing anyway
                        pass

        await asyncio.gather(*(one(v) for v in self.visitors))
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)

    def result(self) -> dict[str, Any]:
        s = self.stats
        acked = sum(len(v.acked) for v in self.visitors)
        return {
            "visitors": len(self.visitors),
            "connected": s.connected,
            "failed": dict(s.failed),
            "closes": dict(s.closes),
            "errors": dict(s.errors),
            "sent": s.sent,
            "acked": acked,
            "unacked": sum(len(v.pending) for v in self.visitors),
            "refused": s.refused,
            "duplicate_acks": s.duplicate_acks,
            "echo_missing": sum(len(v.acked - v.echoed) for v in self.visitors),
            "ack_latency": s.ack_latency,
            "first_ack_latency": s.first_ack_latency,
            "arrival_latency": s.arrival_latency,
            "acked_ids": s.acked_ids,
            "frames_in": s.frames_in,
        }


def worker_main(
    args: argparse.Namespace,
    wid: int,
    indexes: list[int],
    salt: int,
    out: Any,
    connect_go: Any,
    send_go: Any,
    start_at: Any,
    stop: Any,
) -> None:
    """One client process: connect its visitors, run the window, report, close."""
    try:
        asyncio.run(
            _worker(args, wid, indexes, salt, out, connect_go, send_go, start_at, stop)
        )
    except Exception as exc:  # report instead of dying silently
        out.put(("crash", wid, f"{type(exc).__name__}: {exc}"))


async def _worker(
    args: argparse.Namespace,
    wid: int,
    indexes: list[int],
    salt: int,
    out: Any,
    connect_go: Any,
    send_go: Any,
    start_at: Any,
    stop: Any,
) -> None:
    loop = asyncio.get_running_loop()
    worker = VisitorWorker(args, indexes, salt)
    if not await loop.run_in_executor(None, connect_go.wait, 120):
        out.put(("crash", wid, "parent never said connect"))
        return
    lag = LoopLag()
    lag.start()
    t0 = CLOCK()
    await worker.connect_all()
    out.put(("connected", wid, worker.stats.connected, round(CLOCK() - t0, 2)))
    budget = args.connect_phase + 120
    if not await loop.run_in_executor(None, send_go.wait, budget):
        out.put(("crash", wid, "parent never said go"))
        await worker.close_all()
        return
    lag.samples.clear()  # the window's lag, not the connect phase's
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    await worker.run_window(start_at.value)
    await worker.drain(start_at.value + args.duration + args.drain)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    result = worker.result()
    result["held"] = worker.held()
    result["loop_lag"] = lag.stop()
    result["cpu_s"] = round(
        cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime, 2
    )
    out.put(("drained", wid, result))
    await loop.run_in_executor(None, stop.wait, args.drain + 60)
    await worker.close_all()
    out.put(("closed", wid, dict(worker.stats.closes)))


# --- operators (in the parent) -------------------------------------------------------


@dataclass
class Operator:
    index: int
    batch: bool = True
    ws: ClientConnection | None = None
    received: dict[int, int] = field(default_factory=dict)  # message id -> times
    latency: list[float] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)  # parallel to latency
    first_latency: list[float] = field(default_factory=list)  # conversations' first
    frames: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    close: str | None = None
    closing: bool = False
    failed: str | None = None
    task: asyncio.Task[None] | None = None

    async def connect(self, port: int, cookie: str, timeout: float) -> None:
        try:
            self.ws = await open_socket(
                port, "/ws/operator/", cookie, src=None, timeout=timeout
            )
            await wait_for_hello(self.ws, timeout)
            if self.batch:  # as the inbox does: a batch's messages in one frame
                await self.ws.send('{"type":"options","batch_messages":true}')
            await self.ws.send('{"type":"threads","status":"open","limit":30}')
        except ConnectionClosed as exc:
            self.failed = f"closed {close_code_of(exc, self.ws)} before hello"
            self.ws = None
            return
        except Exception as exc:
            self.failed = f"{type(exc).__name__}: {exc}"
            self.ws = None
            return
        self.task = asyncio.create_task(self.read())

    async def read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                now = CLOCK()
                if not isinstance(raw, str):
                    continue
                if raw.startswith('{"type":"message'):
                    frame = json.loads(raw)
                    self.frames[frame["type"]] += 1
                    for message in frame.get("messages") or [frame["message"]]:
                        self.record(message, now)
                    continue
                frame = json.loads(raw)
                kind = frame.get("type", "?")
                self.frames[kind] += 1
                if kind == "error":
                    self.errors[frame.get("code", "?")] += 1
        except ConnectionClosed as exc:
            if not self.closing:
                self.close = close_code_of(exc, self.ws)
            return
        if not self.closing:
            self.close = close_code_of(None, self.ws)

    def record(self, message: dict[str, Any], now: float) -> None:
        if message.get("author") != "visitor":
            return
        mid = message["id"]
        seen = self.received.get(mid, 0)
        self.received[mid] = seen + 1
        if seen:
            return
        parts = message.get("body", "").split("|", 4)
        if parts[0] == "bench" and len(parts) > 3:
            self.latency.append(now - float(parts[1]))
            self.sent_at.append(float(parts[1]))
            if parts[3] == "0":
                self.first_latency.append(now - float(parts[1]))

    def missing(self, acked: set[int]) -> int:
        return len(acked.difference(self.received))

    def duplicates(self) -> int:
        return sum(n - 1 for n in self.received.values() if n > 1)

    async def shutdown(self) -> None:
        self.closing = True
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 10)
            except Exception:  # noqa: S110 - closing anyway
                pass
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


# --- the parent ----------------------------------------------------------------------


async def queue_get(q: Any, timeout: float) -> Any:
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(None, q.get, True, timeout)
    except Exception:
        return None


async def collect(
    q: Any, kind: str, expected: int, deadline: float, crashes: list[str]
) -> dict[int, Any]:
    """Wait (bounded) for ``kind`` reports from ``expected`` workers."""
    got: dict[int, Any] = {}
    while len(got) + len(crashes) < expected and CLOCK() < deadline:
        item = await queue_get(q, min(1.0, max(0.01, deadline - CLOCK())))
        if item is None:
            continue
        if item[0] == "crash":
            crashes.append(f"worker {item[1]}: {item[2]}")
        elif item[0] == kind:
            got[item[1]] = item[2:]
    return got


async def parent(
    args: argparse.Namespace, procs: list[Any], q: Any, events: dict[str, Any]
) -> dict[str, Any]:
    port = urlsplit(args.url).port or 80
    pid = args.server_pid
    report: dict[str, Any] = {
        "config": {
            k: getattr(args, k)
            for k in (
                "url",
                "visitors",
                "operators",
                "rate",
                "arrivals",
                "background",
                "background_rate",
                "open_first",
                "hold",
                "written",
                "duration",
                "processes",
                "payload",
                "ping_interval",
                "drain",
            )
        },
        "server_pid": pid,
    }
    crashes: list[str] = []
    rss_before = read_rss_kib(pid)
    if args.usr2 and pid:
        os.kill(pid, signal.SIGUSR2)  # bench.diagnostic_asgi: tracemalloc baseline
    lag = LoopLag()
    lag.start()

    operators = [Operator(i, batch=not args.no_batch) for i in range(args.operators)]
    if operators:
        log(f"connecting {len(operators)} operator socket(s)")
        cookie = events["operator_cookie"]
        await asyncio.gather(
            *(op.connect(port, cookie, args.connect_timeout) for op in operators)
        )
        for op in operators:
            if op.failed:
                log(f"operator {op.index} failed: {op.failed}")

    log(f"connecting {args.visitors} visitor(s) in {len(procs)} process(es)")
    t0 = CLOCK()
    events["connect_go"].set()
    connected = await collect(
        q, "connected", len(procs), CLOCK() + args.connect_phase + 60, crashes
    )
    connect_s = round(CLOCK() - t0, 2)
    n_connected = sum(v[0] for v in connected.values())
    log(f"{n_connected} visitor socket(s) connected in {connect_s} s")
    await asyncio.sleep(args.settle)
    rss_connected = read_rss_kib(pid)
    if args.usr2 and pid:
        os.kill(pid, signal.SIGUSR2)  # bench.diagnostic_asgi: growth since baseline

    start = CLOCK() + 1.0
    events["start_at"].value = start
    cpu_server0 = read_cpu_seconds(pid)
    cpu_extra0 = {p: read_tree_cpu_seconds(p) for p in args.cpu_pid}
    threads0 = read_thread_cpu(pid)
    host0 = read_host_cpu()
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    events["send_go"].set()
    spy = start_py_spy(args, pid)
    mode = "idle" if args.rate <= 0 else f"{args.rate} msg/s per visitor"
    if args.arrivals > 0:
        mode = f"{args.arrivals} new conversations/s, then {mode}"
    log(f"window: {args.duration} s, {mode}")
    lag.samples.clear()
    await asyncio.sleep(max(0.0, start + args.duration - CLOCK()))
    cpu_server1 = read_cpu_seconds(pid)
    cpu_extra1 = {p: read_tree_cpu_seconds(p) for p in args.cpu_pid}
    threads1 = read_thread_cpu(pid)
    host1 = read_host_cpu()
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    parent_cpu = self1.ru_utime - self0.ru_utime + self1.ru_stime - self0.ru_stime
    thread_cpu = sorted(
        (
            (tid, round(cpu - threads0.get(tid, 0.0), 2))
            for tid, cpu in threads1.items()
        ),
        key=lambda item: -item[1],
    )[:6]
    host_busy = (
        round(100 * (host1[0] - host0[0]) / (host1[1] - host0[1]), 1)
        if host1[1] > host0[1]
        else None
    )
    window_end = CLOCK()
    if spy is not None:
        await asyncio.to_thread(spy.wait, 60)
    drained = await collect(
        q, "drained", len(procs), window_end + args.drain + 30, crashes
    )
    results = [v[0] for v in drained.values()]
    acked_ids: set[int] = set()
    for r in results:
        acked_ids.update(r["acked_ids"])
    # Operators get a bounded drain of their own for what was acked.
    deadline = window_end + args.drain
    while CLOCK() < deadline and any(
        op.ws is not None and op.missing(acked_ids) for op in operators
    ):
        await asyncio.sleep(0.1)
    drain_s = round(CLOCK() - window_end, 2)
    rss_end = read_rss_kib(pid)
    held = sum(r["held"] for r in results)
    parent_lag = lag.stop()
    missing_at_drain = [op.missing(acked_ids) for op in operators]

    events["stop"].set()
    closed = await collect(q, "closed", len(procs), CLOCK() + 90, crashes)
    # Late is not lost: operators stay connected a while longer (bounded) so a
    # message still queued in the server when the drain ended is told apart from
    # one that will never come.
    deadline = CLOCK() + args.grace
    while CLOCK() < deadline and any(
        op.ws is not None and op.missing(acked_ids) for op in operators
    ):
        await asyncio.sleep(0.1)
    for op in operators:
        await op.shutdown()

    def merged(key: str) -> dict[str, int]:
        c: Counter[str] = Counter()
        for r in results:
            c.update(r[key])
        return dict(c)

    close_codes: Counter[str] = Counter()
    for r in results:
        close_codes.update(r["closes"])
    late_closes: Counter[str] = Counter()
    for v in closed.values():
        late_closes.update(v[0])
    late_closes.subtract(close_codes)
    late_closes = +late_closes  # unexpected closes during the close phase

    ack_latency = [x for r in results for x in r["ack_latency"]]
    first_ack = [x for r in results for x in r["first_ack_latency"]]
    arrival = [x for r in results for x in r["arrival_latency"]]
    sent = sum(r["sent"] for r in results)
    acked = sum(r["acked"] for r in results)
    window = args.duration
    server_cpu = (
        None
        if cpu_server0 is None or cpu_server1 is None
        else round(cpu_server1 - cpu_server0, 2)
    )
    report.update(
        {
            "connect_seconds": connect_s,
            "drain_seconds": drain_s,
            "visitors": {
                "target": args.visitors,
                "connected": n_connected,
                "held_at_end": held,
                "failed_connects": merged("failed"),
                "unexpected_closes": dict(close_codes),
                "closes_while_closing": dict(late_closes),
                "error_frames": merged("errors"),
            },
            "messages": {
                "sent": sent,
                "acked": acked,
                "unacked": sum(r["unacked"] for r in results),
                "refused_with_error": sum(r["refused"] for r in results),
                "duplicate_acks": sum(r["duplicate_acks"] for r in results),
                "visitor_echo_missing": sum(r["echo_missing"] for r in results),
                "offered_per_s": round(sent / window, 1) if window else None,
                "acked_per_s": round(acked / window, 1) if window else None,
                "ack_latency": summary_ms(ack_latency),
                "first_ack_latency": summary_ms(first_ack),
                "arrival_to_first_ack": summary_ms(arrival),
            },
            "operators": [
                {
                    "index": op.index,
                    "connected": op.ws is not None,
                    "failed": op.failed,
                    "received": len(op.received),
                    "missing_at_drain_end": missing_at_drain[op.index],
                    "missing": op.missing(acked_ids),
                    "duplicates": op.duplicates(),
                    "unexpected_close": op.close,
                    "error_frames": dict(op.errors),
                    "frames": dict(op.frames),
                    "delivery_latency": summary_ms(op.latency),
                    "first_delivery_latency": summary_ms(op.first_latency),
                    "delivery_latency_after_2s": summary_ms(
                        after_first_seconds(op.sent_at, op.latency)
                    ),
                    "worst_by_second": worst_by_second(op.sent_at, op.latency),
                }
                for op in operators
            ],
            "server": {
                "rss_kib_before": rss_before,
                "rss_kib_connected": rss_connected,
                "rss_kib_end": rss_end,
                "rss_mib_per_1000_sockets": (
                    round(
                        (rss_connected - rss_before)
                        / 1024
                        / ((n_connected + len(operators)) / 1000),
                        2,
                    )
                    if rss_before and rss_connected and n_connected
                    else None
                ),
                "cpu_seconds_in_window": server_cpu,
                "cpu_ms_per_acked_message": (
                    round(1000 * server_cpu / acked, 3)
                    if server_cpu is not None and acked
                    else None
                ),
                "cpu_ms_per_new_conversation": (  # with --background: summarize.py
                    round(1000 * server_cpu / len(first_ack), 3)
                    if server_cpu is not None and first_ack and not args.background
                    else None
                ),
                "cpu_percent_in_window": (
                    round(100 * server_cpu / window, 1)
                    if server_cpu is not None and window
                    else None
                ),
                "busiest_threads_cpu_seconds": thread_cpu,
                "other_cpu_seconds_in_window": {
                    str(p): cpu_delta(cpu_extra0[p], cpu_extra1[p])
                    for p in args.cpu_pid
                },
            },
            "host_cpu_busy_percent_in_window": host_busy,
            "host_cpu_seconds_in_window": round(
                (host1[0] - host0[0]) / os.sysconf("SC_CLK_TCK"), 2
            ),
            "host_cpu_stolen_seconds_in_window": round(
                (host1[2] - host0[2]) / os.sysconf("SC_CLK_TCK"), 2
            ),
            "client": {
                "parent_cpu_seconds": round(parent_cpu, 2),
                "worker_cpu_seconds": [r["cpu_s"] for r in results],
                "worker_loop_lag": [r["loop_lag"] for r in results],
                "parent_loop_lag": parent_lag,
            },
            "crashes": crashes,
        }
    )
    known = (
        (server_cpu or 0)
        + sum(v or 0 for v in report["server"]["other_cpu_seconds_in_window"].values())
        + sum(report["client"]["worker_cpu_seconds"])
        + parent_cpu
    )
    report["foreign_cpu_seconds_estimate"] = round(
        report["host_cpu_seconds_in_window"] - known, 1
    )
    return report


def log(text: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def fmt_lat(s: dict[str, Any]) -> str:
    if not s["count"]:
        return "-"
    return f"{s['p50_ms']} / {s['p99_ms']} / {s['max_ms']} ms"


def print_table(r: dict[str, Any]) -> None:
    c, v, m, s = r["config"], r["visitors"], r["messages"], r["server"]
    rows = [
        ("visitors / operators", f"{c['visitors']} / {c['operators']}"),
        (
            "rate",
            f"{c['rate']} msg/s per visitor, {c['duration']} s"
            if c["rate"]
            else f"idle, {c['duration']} s",
        ),
        (
            "new conversations",
            (
                f"{c['arrivals']}/s"
                + (", sockets open before" if c["open_first"] else "")
                + (", written before (a second message)" if c.get("written") else "")
            )
            if c["arrivals"]
            else "none",
        ),
        ("client processes", c["processes"]),
        (
            "sockets connected",
            f"{v['connected']} of {v['target']} ({r['connect_seconds']} s)",
        ),
        ("sockets held at end", v["held_at_end"]),
        ("failed connects", v["failed_connects"] or "none"),
        ("unexpected closes", v["unexpected_closes"] or "none"),
        ("error frames", v["error_frames"] or "none"),
    ]
    if c["rate"] or c["arrivals"]:
        rows += [
            ("sent / acked", f"{m['sent']} / {m['acked']}"),
            ("unacked", m["unacked"]),
            ("refused (error frame)", m["refused_with_error"]),
            ("duplicate acks", m["duplicate_acks"]),
            ("visitor echo missing", m["visitor_echo_missing"]),
            ("offered / acked msg/s", f"{m['offered_per_s']} / {m['acked_per_s']}"),
            ("ack p50 / p99 / max", fmt_lat(m["ack_latency"])),
        ]
        if c["arrivals"]:
            rows += [
                ("first message ack p50/p99/max", fmt_lat(m["first_ack_latency"])),
                ("GET / -> first ack p50/p99/max", fmt_lat(m["arrival_to_first_ack"])),
            ]
        for op in r["operators"]:
            name = f"operator {op['index']}"
            if not op["connected"]:
                rows.append((name, f"FAILED {op['failed']}"))
                continue
            rows += [
                (
                    f"{name} received / missing / dup",
                    f"{op['received']} / {op['missing']} / {op['duplicates']}"
                    f" (at drain end {op['missing_at_drain_end']} missing)",
                ),
                (f"{name} delivery p50/p99/max", fmt_lat(op["delivery_latency"])),
                (
                    f"{name} first messages",
                    fmt_lat(op.get("first_delivery_latency") or {"count": 0}),
                ),
                (
                    f"{name} same, after 2 s",
                    fmt_lat(op.get("delivery_latency_after_2s") or {"count": 0}),
                ),
                (
                    f"{name} worst ms by second",
                    " ".join(f"{x:.0f}" for x in op.get("worst_by_second", [])),
                ),
            ]
            if op["unexpected_close"] or op["error_frames"]:
                rows.append(
                    (
                        f"{name} close / errors",
                        f"{op['unexpected_close']} {op['error_frames']}",
                    )
                )
    else:
        for op in r["operators"]:
            rows.append(
                (
                    f"operator {op['index']}",
                    op["failed"] or f"held, close={op['unexpected_close']}",
                )
            )
    rows += [("drain", f"{r['drain_seconds']} s")]

    def mib(kib: int | None) -> str:
        return "-" if kib is None else f"{kib / 1024:.1f} MiB"

    if r["server_pid"]:
        rows += [
            (
                "server RSS before / held / end",
                f"{mib(s['rss_kib_before'])} / {mib(s['rss_kib_connected'])} / "
                f"{mib(s['rss_kib_end'])}",
            ),
            ("server RSS per 1,000 sockets", f"{s['rss_mib_per_1000_sockets']} MiB"),
            (
                "server CPU in window",
                f"{s['cpu_seconds_in_window']} s ({s['cpu_percent_in_window']} %)",
            ),
            ("server CPU per acked message", f"{s['cpu_ms_per_acked_message']} ms"),
            (
                "server CPU per new conversation",
                f"{s.get('cpu_ms_per_new_conversation')} ms",
            ),
        ]
        rows.append(
            (
                "server busiest threads (tid: s)",
                ", ".join(f"{t}: {c}" for t, c in s["busiest_threads_cpu_seconds"]),
            )
        )
        for p, cpu in s["other_cpu_seconds_in_window"].items():
            rows.append((f"pid {p} (+children) CPU", f"{cpu} s"))
    cl = r["client"]
    rows.append(
        (
            "host CPU busy in window",
            f"{r['host_cpu_busy_percent_in_window']} % of {os.cpu_count()} CPUs; "
            f"not this benchmark (estimate): {r['foreign_cpu_seconds_estimate']} s, "
            f"of it stolen by the hypervisor: "
            f"{r.get('host_cpu_stolen_seconds_in_window')} s",
        )
    )
    rows.append(
        (
            "client CPU s (workers; parent)",
            f"{cl['worker_cpu_seconds']}; {cl['parent_cpu_seconds']}",
        )
    )
    rows.append(
        (
            "client loop lag p99 (max)",
            ", ".join(
                f"{x['p99_ms']} ({x['max_ms']}) ms" for x in cl["worker_loop_lag"]
            )
            + "; parent {p99_ms} ({max_ms}) ms".format(**cl["parent_loop_lag"]),
        )
    )
    if r["crashes"]:
        rows.append(("CLIENT CRASHES", r["crashes"]))
    width = max(len(k) for k, _ in rows)
    for k, val in rows:
        print(f"  {k:<{width}}  {val}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8001")
    p.add_argument("--visitors", type=int, default=100)
    p.add_argument("--operators", type=int, default=0)
    p.add_argument(
        "--no-batch",
        action="store_true",
        help="operators without the options frame: one frame per message",
    )
    p.add_argument(
        "--rate", type=float, default=0.5, help="msg/s per visitor; 0 = idle"
    )
    p.add_argument("--idle", action="store_true", help="same as --rate 0")
    p.add_argument(
        "--arrivals",
        type=float,
        default=0,
        help="new conversations per second: visitors connect in the window, one "
        "every 1/ARRIVALS s, and send their first message at once (then at --rate)",
    )
    p.add_argument(
        "--background",
        type=int,
        default=0,
        help="with --arrivals: the first BACKGROUND of --visitors are open and "
        "written before the window and send at --background-rate in it (new "
        "conversations in scenario a's load); the others arrive",
    )
    p.add_argument("--background-rate", type=float, default=0.5, help="msg/s each")
    p.add_argument(
        "--hold",
        action="store_true",
        help="with --arrivals --open-first: the arrivals send nothing (the same "
        "sockets and load without them: what a run's CPU is compared with)",
    )
    p.add_argument(
        "--written",
        action="store_true",
        help="with --open-first: each visitor writes once before the window, so what "
        "arrives is a conversation's second message (the comparison for the first)",
    )
    p.add_argument(
        "--open-first",
        action="store_true",
        help="with --arrivals: the visitors open the page and the socket before the "
        "window; what arrives is each one's first message",
    )
    p.add_argument(
        "--duration", type=float, default=30, help="sending/holding window, s"
    )
    p.add_argument(
        "--drain", type=float, default=10, help="max wait after the window, s"
    )
    p.add_argument(
        "--grace",
        type=float,
        default=20,
        help="after the drain and the visitors' close, how long operators may still "
        "receive late messages before the rest counts as missing, s",
    )
    p.add_argument("--operator-user", default=os.environ.get("BENCH_OPERATOR_USER", ""))
    p.add_argument(
        "--operator-password", default=os.environ.get("BENCH_OPERATOR_PASSWORD", "")
    )
    p.add_argument("--server-pid", type=int, default=0)
    p.add_argument(
        "--usr2",
        action="store_true",
        help="send the server SIGUSR2 before connecting and once all are held "
        "(bench.diagnostic_asgi with BENCH_TRACEMALLOC=1: memory by line)",
    )
    p.add_argument(
        "--cpu-pid",
        type=int,
        action="append",
        default=[],
        help="also report CPU seconds of this pid and its children (repeatable)",
    )
    p.add_argument("--processes", type=int, default=1, help="visitor client processes")
    p.add_argument("--payload", type=int, default=40, help="padding chars per body")
    p.add_argument("--ping-interval", type=float, default=25, help="0 = no pings")
    p.add_argument("--connect-concurrency", type=int, default=32, help="per process")
    p.add_argument("--connect-timeout", type=float, default=30)
    p.add_argument("--connect-phase", type=float, default=240, help="max connect time")
    p.add_argument("--settle", type=float, default=2, help="pause before the window")
    p.add_argument(
        "--visitors-per-ip",
        type=int,
        default=1,
        help="more than 20 meet the limit on new conversations per network",
    )
    p.add_argument(
        "--py-spy",
        default="",
        help="profile the server during the window with py-spy into this raw file",
    )
    p.add_argument(
        "--json", default="", help="write the full report here ('-' = stdout)"
    )
    args = p.parse_args(argv)
    if args.idle:
        args.rate = 0.0
    if ws_connect is None:
        print(
            "the websockets package is required (pip install websockets)",
            file=sys.stderr,
        )
        return 2
    parts = urlsplit(args.url)
    try:
        resolved = socket.gethostbyname(parts.hostname or "")
    except OSError:
        resolved = ""
    if parts.scheme != "http" or resolved != LOOPBACK or not parts.port:
        print(
            "--url must be http://127.0.0.1:PORT (this tool never leaves 127.0.0.1)",
            file=sys.stderr,
        )
        return 2
    if (
        args.visitors < 0
        or args.operators < 0
        or args.processes < 1
        or args.duration <= 0
    ):
        print("bad --visitors/--operators/--processes/--duration", file=sys.stderr)
        return 2
    events: dict[str, Any] = {}
    if args.operators:
        if not args.operator_user or not args.operator_password:
            print(
                "--operators needs --operator-user and --operator-password",
                file=sys.stderr,
            )
            return 2
        try:
            events["operator_cookie"] = login_operator(
                parts.port, args.operator_user, args.operator_password
            )
        except (OSError, RuntimeError) as exc:
            print(f"operator login: {exc}", file=sys.stderr)
            return 2
    try:  # one descriptor per socket: take the hard limit
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass

    ctx = mp.get_context("fork")
    q = ctx.Queue()
    events.update(
        connect_go=ctx.Event(),
        send_go=ctx.Event(),
        stop=ctx.Event(),
        start_at=ctx.Value("d", 0.0),
    )
    salt = random.randint(1, 254)
    nproc = min(args.processes, max(1, args.visitors))
    shares = [list(range(args.visitors))[i::nproc] for i in range(nproc)]
    procs = [
        ctx.Process(
            target=worker_main,
            args=(
                args,
                i,
                shares[i],
                salt,
                q,
                events["connect_go"],
                events["send_go"],
                events["start_at"],
                events["stop"],
            ),
            daemon=True,
            name=f"bench-visitors-{i}",
        )
        for i in range(nproc)
    ]
    for proc in procs:
        proc.start()
    hard_limit = args.connect_phase + args.duration + args.drain + 300
    try:
        report = asyncio.run(
            asyncio.wait_for(parent(args, procs, q, events), hard_limit)
        )
    except TimeoutError:
        print("the run exceeded its hard time limit", file=sys.stderr)
        report = None
    finally:
        for event in ("connect_go", "send_go", "stop"):
            events[event].set()
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.terminate()  # our own child, by its handle
                proc.join(5)
    if report is None:
        return 1
    print_table(report)
    if args.json:
        text = json.dumps(report, indent=2)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w") as fh:
                fh.write(text + "\n")
    m = report["messages"]
    bad = (
        m["unacked"]
        or m["duplicate_acks"]
        or any(op["missing"] or op["duplicates"] for op in report["operators"])
        or report["visitors"]["failed_connects"]
        or report["crashes"]
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
