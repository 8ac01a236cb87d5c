#!/usr/bin/env python3
"""One visitor alone on the server: how long a ``ping`` and a message take when
nothing else is going on (the floor under scenario a's latencies; docs/performance.md).

Opens one visitor socket the way the page does (a session cookie from ``/``), then
``--count`` times: a ``ping`` timed to its ``pong``, a pause, a ``message.send``
timed to its ``ack``, a pause. Then ``--new`` new conversations one after another,
each step timed: the page (``GET /``, a new session), the socket to its
``hello``, the first message to its ``ack``, what it does after its ack (``after``:
0.1 s), a second one, the close; with
``--server-pid`` also the server's CPU per step. ``--widget N``: N new visitors
of the widget (docs/widget.md): its frame page, its session call (a token), the
socket opened with the token, the first message. Prints the p50, p90, min and
max of each. Bounded: each answer is awaited for at most 5 s, and the run ends by
itself.

    .venv/bin/python bench/lone.py --url http://127.0.0.1:8001 [--count 200] \
        [--new 100 --server-pid PID]

The server must lift the per-connection frame limits (``SOHBET_WS_RATE``), as
bench/run_all.sh does; ``bench/run_all.sh OUT lone`` runs it on a fresh server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import load  # noqa: E402  (bench/load.py: the page's cookie and socket)

# How long the work a first message starts after its ack (the operators' thread
# event, an automatic reply) is given before the "after" step's CPU is read.
AFTER_ACK = 0.1


def summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    n = len(values)
    return (
        f"{name:<8} n={n} p50 {values[n // 2]:.2f} p90 {values[int(n * 0.9)]:.2f} "
        f"min {values[0]:.2f} max {values[-1]:.2f} ms"
    )


async def answer(ws: load.ClientConnection, wanted: str, client_id: str = "") -> None:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame.get("type") == "error":
            raise SystemExit(f"error frame: {frame}")
        if frame.get("type") == wanted and frame.get("client_id", "") == client_id:
            return


def mark(pid: int) -> tuple[float, float]:
    """Now, and the server's CPU seconds so far (0 without its pid)."""
    return time.perf_counter(), load.read_cpu_seconds(pid) if pid else 0.0


def record(
    marks: list[tuple[float, float]],
    steps: tuple[str, ...],
    times: dict[str, list[float]],
    cpu: dict[str, float],
) -> None:
    for step, before, after in zip(steps, marks, marks[1:], strict=False):
        times[step].append((after[0] - before[0]) * 1000)
        cpu[step] += (after[1] or 0) - (before[1] or 0)


def report(
    steps: tuple[str, ...],
    times: dict[str, list[float]],
    cpu: dict[str, float],
    count: int,
    pid: int,
) -> None:
    for step in steps:
        line = summary(step, times[step])
        if pid:
            line += f"; server CPU {1000 * cpu[step] / count:.2f} ms each"
        print(line)


async def new_conversations(port: int, count: int, pid: int) -> None:
    """``count`` visitors one after another: page, socket, first message, close."""
    steps = ("page", "hello", "first", "after", "second", "close")
    times: dict[str, list[float]] = {step: [] for step in steps}
    cpu: dict[str, float] = dict.fromkeys(steps, 0.0)
    for n in range(count):
        marks = [mark(pid)]
        _status, cookies = await load.http_get(
            port, "/", src=f"127.9.{n // 200}.{n % 200 + 1}", timeout=5, headers={}
        )
        marks.append(mark(pid))
        ws = await load.open_socket(
            port, "/ws/chat/", load.cookie_header(cookies), src=None, timeout=5
        )
        await load.wait_for_hello(ws, 5)
        marks.append(mark(pid))
        for body in (f"first {n}", f"second {n}"):
            client_id = str(uuid.uuid4())
            frame = {"type": "message.send", "client_id": client_id, "body": body}
            await ws.send(json.dumps(frame))
            await answer(ws, "ack", client_id)
            marks.append(mark(pid))
            if len(marks) == 4:  # the first one's work after its ack ("after")
                await asyncio.sleep(AFTER_ACK)
                marks.append(mark(pid))
        await ws.close()
        marks.append(mark(pid))
        record(marks, steps, times, cpu)
        await asyncio.sleep(0.03)  # pacing, not synchronisation
    report(steps, times, cpu, count, pid)


async def http_post_json(port: int, path: str, *, timeout: float) -> dict[str, str]:
    """A minimal HTTP/1.1 POST of ``{}`` (the widget frame's session call)."""

    async def post() -> dict[str, str]:
        reader, writer = await asyncio.open_connection(load.LOOPBACK, port)
        try:
            writer.write(
                (
                    f"POST {path} HTTP/1.1\r\nHost: {load.LOOPBACK}:{port}\r\n"
                    "Connection: close\r\nContent-Type: application/json\r\n"
                    "Content-Length: 2\r\n\r\n{}"
                ).encode("latin1")
            )
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
        head, _sep, body = raw.partition(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise SystemExit(f"{path}: {head[:80]!r}")
        return dict(json.loads(body))

    return await asyncio.wait_for(post(), timeout)


async def widget_visitors(port: int, count: int, pid: int) -> None:
    """``count`` widget visitors one after another: the frame page, its session
    call, the socket with the token, the first message."""
    steps = ("frame", "session", "hello", "first")
    times: dict[str, list[float]] = {step: [] for step in steps}
    cpu: dict[str, float] = dict.fromkeys(steps, 0.0)
    frame_path = "/widget/frame/?host=http%3A%2F%2Flocalhost%3A8000&lang=en"
    for n in range(count):
        marks = [mark(pid)]
        await load.http_get(port, frame_path, src=None, timeout=5, headers={})
        marks.append(mark(pid))
        token = (await http_post_json(port, "/widget/session/", timeout=5))["token"]
        marks.append(mark(pid))
        ws = await load.ws_connect(
            f"ws://{load.LOOPBACK}:{port}/ws/chat/",
            origin=f"http://{load.LOOPBACK}:{port}",  # type: ignore[arg-type]
            subprotocols=["sohbet", "sohbet.token." + token],  # type: ignore[list-item]
            compression=None,
            proxy=None,
            open_timeout=5,
            ping_interval=None,
        )
        await load.wait_for_hello(ws, 5)
        marks.append(mark(pid))
        client_id = str(uuid.uuid4())
        frame = {"type": "message.send", "client_id": client_id, "body": f"w{n}"}
        await ws.send(json.dumps(frame))
        await answer(ws, "ack", client_id)
        marks.append(mark(pid))
        await ws.close()
        record(marks, steps, times, cpu)
        await asyncio.sleep(0.03)  # pacing, not synchronisation
    report(steps, times, cpu, count, pid)


async def run(port: int, count: int, pid: int) -> None:
    _status, cookies = await load.http_get(port, "/", src=None, timeout=5, headers={})
    ws = await load.open_socket(
        port, "/ws/chat/", load.cookie_header(cookies), src=None, timeout=5
    )
    await load.wait_for_hello(ws, 5)
    steps = ("ping", "ack")
    times: dict[str, list[float]] = {step: [] for step in steps}
    cpu: dict[str, float] = dict.fromkeys(steps, 0.0)
    try:
        for n in range(count):
            # The server's CPU of each step is read after the pause that follows
            # it: what it does after its answer (a publish) counts too.
            started = mark(pid)
            await ws.send('{"type":"ping"}')
            await answer(ws, "pong")
            times["ping"].append((time.perf_counter() - started[0]) * 1000)
            await asyncio.sleep(0.02)  # pacing, not synchronisation
            client_id = str(uuid.uuid4())
            frame = {"type": "message.send", "client_id": client_id, "body": f"n{n}"}
            sent = mark(pid)
            await ws.send(json.dumps(frame))
            await answer(ws, "ack", client_id)
            times["ack"].append((time.perf_counter() - sent[0]) * 1000)
            await asyncio.sleep(0.03)
            cpu["ping"] += sent[1] - started[1]
            cpu["ack"] += mark(pid)[1] - sent[1]
    finally:
        await ws.close()
    report(steps, times, cpu, count, pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--new", type=int, default=0, help="new conversations")
    parser.add_argument("--widget", type=int, default=0, help="widget visitors")
    parser.add_argument("--server-pid", type=int, default=0)
    args = parser.parse_args()
    address = urlsplit(args.url)
    if address.hostname != "127.0.0.1" or not address.port:
        parser.error("--url must be http://127.0.0.1:PORT")
    if args.count:
        asyncio.run(run(address.port, args.count, args.server_pid))
    if args.new:
        asyncio.run(new_conversations(address.port, args.new, args.server_pid))
    if args.widget:
        asyncio.run(widget_visitors(address.port, args.widget, args.server_pid))


if __name__ == "__main__":
    main()
