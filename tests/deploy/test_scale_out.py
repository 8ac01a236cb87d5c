"""Two Daphne processes on the same PostgreSQL and Redis behave as one site."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from django.core.cache import cache
from django_ratelimit.core import _get_window

from tests.deploy.client import (
    Outbox,
    Peer,
    new_client_id,
    open_operator,
    open_visitor,
    page_status,
    resume,
    send_message,
    visit,
)
from tests.deploy.conftest import Processes, stored_rows

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]


stored = stored_rows("client_id")


async def test_visitor_on_one_process_and_operator_on_another_talk_live(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    a, b = await asyncio.to_thread(processes.two_daphnes)
    operator = await open_operator(b, operator_cookie, peers)
    visitor = await open_visitor(a, await asyncio.to_thread(visit, a), peers)
    thread = visitor.hello["thread"]["id"]
    outbox = Outbox()

    question = outbox.add("Merhaba, is anyone there?")
    await send_message(visitor, outbox, question)
    ack = await visitor.next("ack")
    live = await operator.next("message")
    assert live["message"]["id"] == ack["id"]
    assert (live["message"]["body"], live["message"]["seq"]) == (
        "Merhaba, is anyone there?",
        1,
    )

    reply = outbox.add("Yes, how can I help?")
    await send_message(operator, outbox, reply, thread=thread)
    await operator.next("ack", where=lambda f: f["client_id"] == reply)
    answer = await visitor.next(
        "message", where=lambda f: f["message"]["author"] == "operator"
    )
    assert (answer["message"]["body"], answer["message"]["seq"]) == (
        "Yes, how can I help?",
        2,
    )


async def test_presence_crosses_processes(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    a, b = await asyncio.to_thread(processes.two_daphnes)
    cookie = await asyncio.to_thread(visit, a)
    visitor = await open_visitor(a, cookie, peers)
    thread = visitor.hello["thread"]["id"]
    assert visitor.hello["operators_online"] is False
    # Operators hear of a visitor once their conversation is written.
    await visitor.send(type="message.send", client_id=new_client_id(), body="hi")
    await visitor.next("ack")

    operator = await open_operator(b, operator_cookie, peers)
    came = await visitor.next("presence")
    assert came == {"type": "presence", "operators_online": True}

    await visitor.close()
    left = await operator.next("presence")
    assert left == {"type": "presence", "thread": thread, "visitor_online": False}

    visitor = await open_visitor(a, cookie, peers)
    assert visitor.hello["operators_online"] is True
    back = await operator.next("presence")
    assert back == {"type": "presence", "thread": thread, "visitor_online": True}

    await operator.close()
    gone = await visitor.next("presence")
    assert gone == {"type": "presence", "operators_online": False}


async def test_typing_crosses_processes(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    a, b = await asyncio.to_thread(processes.two_daphnes)
    visitor = await open_visitor(a, await asyncio.to_thread(visit, a), peers)
    thread = visitor.hello["thread"]["id"]
    await visitor.send(type="message.send", client_id=new_client_id(), body="hi")
    await visitor.next("ack")
    operator = await open_operator(b, operator_cookie, peers)

    await visitor.send(type="typing", active=True)
    typing = await operator.next("typing")
    assert (typing["thread"], typing["author"], typing["active"]) == (
        thread,
        "visitor",
        True,
    )
    await operator.send(type="typing", thread=thread, active=True)
    typing = await visitor.next("typing")
    assert (typing["thread"], typing["author"], typing["active"]) == (
        thread,
        "operator",
        True,
    )
    await visitor.close()  # leaving while typing ends the indicator everywhere
    stopped = await operator.next("typing")
    assert (stopped["thread"], stopped["active"]) == (thread, False)


def test_chat_page_limit_counts_across_processes(processes: Processes) -> None:
    a, b = processes.two_daphnes()
    for _attempt in range(2):
        # django-ratelimit counts in fixed windows; a burst that straddles two
        # windows proves nothing and is run again in the next one.
        cache.clear()
        window = _get_window("127.0.0.1", 60)
        statuses = [page_status(a if n % 2 else b) for n in range(121)]
        if _get_window("127.0.0.1", 60) == window:
            break
    assert statuses[:120] == [200] * 120
    assert statuses[120] == 429
    assert page_status(a) == page_status(b) == 429


async def test_message_limit_counts_across_processes(
    processes: Processes, peers: list[Peer]
) -> None:
    a, b = await asyncio.to_thread(processes.two_daphnes, SOHBET_SEND_RATE="10/60")
    for _attempt in range(2):
        # Counted in fixed windows: a burst that straddles two proves nothing.
        cookie = await asyncio.to_thread(visit, a)
        tabs = [
            await open_visitor(a, cookie, peers),
            await open_visitor(b, cookie, peers),
        ]
        window = int(time.time() // 60)
        outbox = Outbox()
        answers = []
        for n in range(11):
            tab = tabs[n % 2]
            client_id = outbox.add(f"m{n}")
            await send_message(tab, outbox, client_id)
            answers.append(
                await tab.next(
                    "ack", "error", where=lambda f, c=client_id: f["client_id"] == c
                )
            )
        if int(time.time() // 60) == window:
            break
    assert [f["type"] for f in answers] == ["ack"] * 10 + ["error"]
    assert answers[-1]["code"] == "rate_limited"
    assert len(await stored(tabs[0].hello["thread"]["id"])) == 10


async def test_killing_the_visitors_process_loses_and_duplicates_nothing(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    a, b = await asyncio.to_thread(processes.two_daphnes)
    operator = await open_operator(b, operator_cookie, peers)
    cookie = await asyncio.to_thread(visit, a)
    visitor = await open_visitor(a, cookie, peers)
    thread = visitor.hello["thread"]["id"]
    outbox = Outbox()
    for n in range(3):
        client_id = outbox.add(f"before {n}")
        await send_message(visitor, outbox, client_id)
        await visitor.next("ack", where=lambda f, c=client_id: f["client_id"] == c)
    burst = [outbox.add(f"burst {n}") for n in range(12)]
    for client_id in burst:
        await send_message(visitor, outbox, client_id)
    await visitor.next("ack", where=lambda f: f["client_id"] in burst)
    a.send_signal(signal.SIGKILL)
    await visitor.wait_closed()
    outbox.record_acks(visitor)
    unacked = outbox.unacked()
    stored_unacked = len(await stored(thread)) - len(outbox.acked)
    print(
        f"after SIGKILL: {len(unacked)} of {len(burst)} burst messages unacknowledged,"
        f" {stored_unacked} of them stored"
    )

    seen_seq = max(f["seq"] for f in outbox.acked.values())
    visitor = await open_visitor(b, cookie, peers)
    synced = await resume(visitor, outbox, after_seq=seen_seq)

    rows = await stored(thread)
    assert [seq for seq, _ in rows] == list(range(1, len(outbox.bodies) + 1))
    assert sorted(str(cid) for _, cid in rows) == sorted(outbox.bodies)
    assert set(outbox.acked) == set(outbox.bodies)
    visitor_has = {f["id"] for f in outbox.acked.values()} | {m["id"] for m in synced}
    assert len(visitor_has) == len(rows)

    # The operator's inbox syncs from the last seq it has without a gap.
    await operator.send(
        type="sync", thread=thread, after=operator.contiguous_seq(thread)
    )
    await operator.next("sync")
    seen = operator.messages_seen()
    assert sorted(m["client_id"] for m in seen.values()) == sorted(outbox.bodies)
    live = operator.live_message_ids()
    assert len(live) == len(set(live)), "a message was delivered live twice"
