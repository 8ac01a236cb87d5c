"""Two tabs of a new browser opening at once on two web processes are one visitor."""

from __future__ import annotations

import asyncio

import pytest

from tests.deploy.client import Outbox, Peer, open_visitor, send_message, visit
from tests.deploy.conftest import Processes

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]


async def test_two_first_sockets_on_two_processes_share_one_conversation(
    processes: Processes, peers: list[Peer]
) -> None:
    a, b = await asyncio.to_thread(processes.two_daphnes)
    for _browser in range(3):
        cookie = await asyncio.to_thread(visit, a)
        left, right = await asyncio.gather(
            open_visitor(a, cookie, peers), open_visitor(b, cookie, peers)
        )
        assert left.hello["visitor"]["id"] == right.hello["visitor"]["id"]
        thread = left.hello["thread"]["id"]
        assert right.hello["thread"]["id"] == thread
        outbox = Outbox()
        for tab, body in ((left, "from the first tab"), (right, "from the second")):
            client_id = outbox.add(body)
            await send_message(tab, outbox, client_id)
            await tab.next("ack", where=lambda f, c=client_id: f["client_id"] == c)
        # A reload shows both acknowledged messages in the visitor's conversation.
        reloaded = await open_visitor(a, cookie, peers)
        assert reloaded.hello["thread"]["id"] == thread
        await reloaded.send(type="sync", after=0)
        synced = await reloaded.next("sync")
        assert sorted(m["body"] for m in synced["messages"]) == sorted(
            outbox.bodies.values()
        )
