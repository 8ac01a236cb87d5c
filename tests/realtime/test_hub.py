"""Sockets hear their shared groups (their thread, the visitors', the operators')
through their process's hub (realtime.hub): one channel-layer subscription per process,
not one per socket."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from django.conf import settings

from chat import events
from realtime import delivery
from realtime.cache import sync_redis
from realtime.hub import HUB_EVENTS, HUB_GROUP, Hub, Inbox, Mailbox, get_hub

pytestmark = pytest.mark.django_db(transaction=True)


async def test_each_socket_hears_its_own_thread_only_and_in_order(
    connect_visitor, connect_operator
) -> None:
    ada = await connect_visitor(written=True)
    ada_tab = await connect_visitor(ada.cookie)
    bora = await connect_visitor(written=True)
    operator = await connect_operator()
    for socket in (ada, ada_tab, bora):
        # Through the layer, so it may come after messages handed on at once.
        await socket.receive_type("presence")
    threads = {ada.hello["thread"]["id"]: "ada", bora.hello["thread"]["id"]: "bora"}
    for n in range(4):
        for thread in threads:
            await operator.send(
                type="message.send",
                thread=thread,
                client_id=str(uuid.uuid4()),
                body=f"{threads[thread]} {n}",
            )
    for socket, name in ((ada, "ada"), (ada_tab, "ada"), (bora, "bora")):
        heard = [(await socket.receive_type("message"))["message"] for _ in range(4)]
        assert [m["body"] for m in heard] == [f"{name} {n}" for n in range(4)]
        assert [m["seq"] for m in heard] == [1, 2, 3, 4]
    for socket in (ada, ada_tab, bora):
        assert await socket.hears_no_message_again()  # none twice


async def test_the_hub_hands_events_to_their_groups_and_skips_bad_ones() -> None:
    hub = get_hub("default")
    assert hub is not None
    first, second = Inbox(), Inbox()
    await hub.join("thread.1", first)
    await hub.join("thread.2", second)
    await hub.join(events.VISITORS_GROUP, second)
    hub.deliver(
        {
            "type": HUB_EVENTS,
            "events": [
                ["thread.1", {"type": "chat.read", "n": 1}],
                ["thread.2", {"type": "chat.read", "n": 2}],
                ["thread.3", {"type": "chat.read", "n": 3}],  # nobody here
                [events.VISITORS_GROUP, {"type": "chat.presence", "n": 4}],
            ],
        }
    )
    assert first.get_nowait()["n"] == 1 and first.empty()
    assert [second.get_nowait()["n"] for _ in range(2)] == [2, 4]
    hub.leave("thread.1", first)
    hub.deliver({"type": HUB_EVENTS, "events": [["thread.1", {"type": "chat.read"}]]})
    assert first.empty()
    # Through the layer: a malformed event is dropped, the hub goes on.
    await hub.layer.group_send("sohbet.hub", {"type": HUB_EVENTS, "events": 5})
    await hub.layer.group_send(
        "sohbet.hub",
        {"type": HUB_EVENTS, "events": [["thread.2", {"type": "chat.read", "n": 6}]]},
    )
    assert (await asyncio.wait_for(second.get(), 5))["n"] == 6


def _new(thread: int, seq: int) -> list[events.Event]:
    """A stored message's events, as the writer has them after a commit."""
    payload = {"id": thread * 100 + seq, "thread": thread, "seq": seq}
    return [
        (group, {"type": events.MESSAGES, "messages": [payload]})
        for group in (events.thread_group(thread), events.OPERATORS_GROUP)
    ]


async def _joined(hub: Hub, group: str) -> Inbox:
    inbox = Inbox()
    await hub.join(group, inbox)
    return inbox


def _seqs(inbox: Inbox) -> list[int]:
    """The seqs of the messages waiting in ``inbox`` now."""
    seqs = []
    while not inbox.empty():
        seqs += [m["seq"] for m in inbox.get_nowait()["messages"]]
    return seqs


async def _heard(inbox: Inbox, count: int) -> list[int]:
    """The seqs of the next ``count`` messages ``inbox`` gets."""
    seqs: list[int] = []
    while len(seqs) < count:
        seqs += [m["seq"] for m in (await asyncio.wait_for(inbox.get(), 5))["messages"]]
    return seqs


async def test_the_storing_process_hears_its_messages_at_once_and_only_once() -> None:
    # This process's sockets get what it stores without the round trip through the
    # layer; another process's hub (another subscription to the layer) gets it
    # through the layer; the copy the layer brings back here is skipped.
    here = get_hub("default")
    assert here is not None
    mine = await _joined(here, "thread.7")
    there = Hub(here.layer)  # what another web process runs
    theirs = await _joined(there, "thread.7")
    try:
        routed = delivery.deliver_here(_new(7, 1) + _new(7, 2))
        assert _seqs(mine) == [1, 2]  # before anything went through the layer
        await delivery.publish(routed)
        assert await _heard(theirs, 2) == [1, 2]
        # The layer delivers in order: had the hub kept its copies, they would come
        # before this one (another process's seq 3).
        await delivery.publish(delivery.route(_new(7, 3)))
        assert await _heard(mine, 1) == [3]
        assert await _heard(theirs, 1) == [3]
        assert mine.empty() and theirs.empty()
    finally:
        assert there._task is not None
        there._task.cancel()


async def test_a_message_after_one_still_on_its_way_takes_the_layer_behind_it() -> None:
    # Another process stored seq 1 of thread 8 and is publishing it; this process
    # stores seq 2 (and 3) meanwhile. Handing them on at once would put them ahead
    # of 1: they go through the layer, after it, and the thread stays in order.
    here = get_hub("default")
    assert here is not None
    mine = await _joined(here, "thread.8")
    routed = delivery.deliver_here(_new(8, 2) + _new(8, 3))
    assert mine.empty()
    await delivery.publish(delivery.route(_new(8, 1)))  # the other process's, first
    await delivery.publish(routed)
    assert await _heard(mine, 3) == [1, 2, 3]
    # Now this process has handed on 3: its seq 4 goes at once.
    await delivery.publish(delivery.deliver_here(_new(8, 4)))
    assert _seqs(mine) == [4]


async def test_batches_published_together_keep_their_order() -> None:
    first = [(HUB_GROUP, {"type": HUB_EVENTS, "events": [["thread.1", {"n": 1}]]})]
    then = [
        (HUB_GROUP, {"type": HUB_EVENTS, "events": [["thread.1", {"n": 2}]]}),
        ("session.x", {"type": "session.ended", "n": 3}),
        (HUB_GROUP, {"type": HUB_EVENTS, "events": [["thread.1", {"n": 4}]]}),
    ]
    joined = delivery.join_routed(first, then)
    assert [group for group, _ in joined] == [HUB_GROUP, "session.x", HUB_GROUP]
    assert [inner["n"] for _, inner in joined[0][1]["events"]] == [1, 2]
    assert joined[1][1]["n"] == 3
    assert [inner["n"] for _, inner in joined[2][1]["events"]] == [4]
    mine = {
        "type": HUB_EVENTS,
        "origin": "me",
        "here": 1,
        "events": [["thread.1", {"n": 5}]],
    }
    # Delivered by its origin when sent: it may not follow events it has not.
    assert len(delivery.join_routed(joined, [(HUB_GROUP, mine)])) == 4
    again = delivery.join_routed([(HUB_GROUP, mine)], [(HUB_GROUP, mine), *then])
    assert [group for group, _ in again] == [HUB_GROUP, "session.x", HUB_GROUP]
    assert (again[0][1]["here"], len(again[0][1]["events"])) == (2, 3)
    assert delivery.join_routed(again[:1], [(HUB_GROUP, mine)])[1][1] is mine


async def test_a_batchs_messages_and_other_events_are_one_publish() -> None:
    """A batch's messages go to this process's sockets at once, its other events
    (a new conversation's state) after them through the layer, in the same publish:
    this hub delivers only those when it comes back, another hub all of them."""
    here = get_hub("default")
    assert here is not None
    mine = await _joined(here, "thread.11")
    there = Hub(here.layer)
    theirs = await _joined(there, "thread.11")
    state = ("thread.11", {"type": "chat.threads", "threads": [{"id": 11}]})
    try:
        routed = delivery.deliver_here([*_new(11, 1), state])
        assert len(routed) == 1  # the messages (2 groups), then the state
        assert (routed[0][1]["here"], len(routed[0][1]["events"])) == (2, 3)
        assert _seqs(mine) == [1]
        await delivery.publish(routed)
        for inbox in (mine, theirs):
            if inbox is theirs:
                assert await _heard(inbox, 1) == [1]
            assert (await asyncio.wait_for(inbox.get(), 5))["type"] == "chat.threads"
        await delivery.publish(delivery.deliver_here(_new(11, 2)))
        assert _seqs(mine) == [2]
        assert await _heard(theirs, 1) == [2]
        assert mine.empty() and theirs.empty()  # nothing came twice
    finally:
        assert there._task is not None
        there._task.cancel()


def our_channels(redis: Any) -> list[str]:
    """The pub/sub channels of this process's layer (Redis lists every client's: the
    tests of other pytest-xdist workers use the same server with another prefix)."""
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    return [name.decode() for name in redis.pubsub_channels(f"{prefix}__*")]


@pytest.mark.postgres_redis
async def test_visitor_sockets_share_one_subscription_per_process(
    connect_visitor, connect_operator
) -> None:
    redis = sync_redis()
    await connect_visitor()  # the process's hub subscribes with the first socket
    before = len(our_channels(redis))
    visitors = [await connect_visitor(written=True) for _ in range(12)]
    assert len(our_channels(redis)) == before
    operator = await connect_operator()
    last = visitors[-1]
    await operator.send(
        type="message.send",
        thread=last.hello["thread"]["id"],
        client_id=str(uuid.uuid4()),
        body="live through the hub",
    )
    heard = await last.receive_type("message")
    assert heard["message"]["body"] == "live through the hub"


@pytest.mark.postgres_redis
async def test_operator_sockets_hear_every_batch_through_the_hub(
    connect_visitor, connect_operator, make_operator
) -> None:
    redis = sync_redis()
    operators = [await connect_operator(await make_operator(n)) for n in "abc"]
    visitor = await connect_visitor()
    # Nothing subscribes to the operators' group in Redis: a batch reaches every
    # operator socket of a process inside the one event its hub receives.
    channels = our_channels(redis)
    assert not [name for name in channels if name.endswith("__group__operators")]
    assert [name for name in channels if name.endswith("__group__sohbet.hub")]
    client_id = str(uuid.uuid4())
    await visitor.send(type="message.send", client_id=client_id, body="to all three")
    for operator in operators:
        heard = await operator.receive_type("message")
        assert (heard["message"]["client_id"], heard["message"]["body"]) == (
            client_id,
            "to all three",
        )


async def test_the_hub_drops_the_copies_a_socket_already_sent_itself() -> None:
    inbox = Inbox()
    inbox.echoed.update({7: None, 8: None})
    hub = get_hub("default")
    assert hub is not None
    await hub.join("thread.9", inbox)
    hub.deliver(
        {
            "type": HUB_EVENTS,
            "events": [
                ["thread.9", {"type": "chat.messages", "messages": [{"id": 7}]}],
                [
                    "thread.9",
                    {"type": "chat.messages", "messages": [{"id": 8}, {"id": 10}]},
                ],
                ["thread.9", {"type": "chat.read", "up_to": 8}],
            ],
        }
    )
    assert inbox.get_nowait() == {"type": "chat.messages", "messages": [{"id": 10}]}
    assert inbox.get_nowait() == {"type": "chat.read", "up_to": 8}
    assert inbox.empty() and not inbox.echoed


async def test_the_hub_stays_in_its_group_past_the_layers_expiry(
    settings, monkeypatch
) -> None:
    # The in-memory layer (make run) forgets group members after group_expiry (a
    # day by default); the hub lives as long as its process and renews.
    from realtime import hub as hub_module
    from realtime.hub import HUB_GROUP

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"group_expiry": 1},
        }
    }
    monkeypatch.setattr(hub_module, "RENEW_AFTER", 0.3)
    the_hub = get_hub("default")
    assert the_hub is not None
    inbox = Inbox()
    await the_hub.join("thread.5", inbox)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.5  # the expiry, more than twice over
    n = 0
    while loop.time() < deadline:
        n += 1
        await the_hub.layer.group_send(
            HUB_GROUP,
            {
                "type": HUB_EVENTS,
                "events": [["thread.5", {"type": "chat.read", "n": n}]],
            },
        )
        assert (await asyncio.wait_for(inbox.get(), 2))["n"] == n
        await asyncio.sleep(0.1)  # pacing the sends over the window


async def test_a_mailbox_gives_in_order_to_one_reader_at_a_time() -> None:
    mailbox = Mailbox()
    reader = asyncio.ensure_future(mailbox.get())
    second = asyncio.ensure_future(mailbox.get())  # starts after the first waits
    done, _ = await asyncio.wait({reader, second}, return_when="FIRST_COMPLETED")
    assert done == {second}  # it would never be woken: refused at once
    with pytest.raises(RuntimeError):
        second.result()
    for n in range(3):
        mailbox.put_nowait(n)
    assert await reader == 0
    assert [await mailbox.get(), mailbox.get_nowait()] == [1, 2]
    assert mailbox.empty()
