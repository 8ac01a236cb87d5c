"""Blocks and ratings without a database: their events are plain JSON in their
declared shapes, networks are computed and matched as documented, a socket's block
state follows the events, and their frames are parsed or refused."""

from __future__ import annotations

import json
from typing import Any, get_type_hints

import pytest

from chat import frames, safety, safety_events
from chat.exceptions import ChatError

RATING = {
    "score": 4,
    "comment": "ok",
    "created": "2026-12-07T12:00:00Z",
    "changeable_until": "2026-12-07T12:10:00Z",
}
EXTRA = {"thread": 3, "blocked": None, "rating": RATING}
EVENTS = [
    (
        safety_events.block_event(block=1, visitor=4, network="", blocked=True),
        safety_events.BlockEvent,
    ),
    (safety_events.extra_event(EXTRA), safety_events.ExtraEvent),
    *(
        (
            event,
            safety_events.RatingEvent
            if "rating" in event[1]
            else safety_events.ExtraEvent,
        )
        for event in safety_events.rating_events(thread=3, rating=RATING, extra=EXTRA)
    ),
]


@pytest.mark.parametrize(("event", "shape"), EVENTS)
def test_the_events_are_json_in_their_declared_shape(event: Any, shape: Any) -> None:
    group, body = event
    assert isinstance(group, str) and group
    assert json.loads(json.dumps(body)) == body
    assert shape.__required_keys__ <= set(body) <= set(get_type_hints(shape))


@pytest.mark.parametrize(
    ("address", "whole", "network"),
    [
        ("203.0.113.7", False, "203.0.113.7/32"),
        ("203.0.113.7", True, "203.0.113.0/24"),
        ("2001:db8::1:2", False, "2001:db8::/64"),
        ("::ffff:203.0.113.7", True, "203.0.113.0/24"),
        ("not an address", True, ""),
    ],
)
def test_a_network_is_the_address_or_its_24_or_64(
    address: str, whole: bool, network: str
) -> None:
    assert safety.network_of(address, whole_network=whole) == network


def test_a_socket_follows_the_blocks_that_concern_it() -> None:
    state = safety.BlockState(visitor_id=4, address="203.0.113.9")
    state.apply({"block": 1, "visitor": 5, "network": "", "blocked": True})
    assert not state.blocked  # another visitor
    state.apply(
        {"block": 2, "visitor": 5, "network": "203.0.113.0/24", "blocked": True}
    )
    state.apply({"block": 3, "visitor": 4, "network": "", "blocked": True})
    assert state.blocks == {2, 3}
    state.apply({"block": 3, "visitor": 4, "network": "", "blocked": False})
    assert state.blocked  # still its network's block
    state.apply(
        {"block": 2, "visitor": 5, "network": "203.0.113.0/24", "blocked": False}
    )
    assert not state.blocked
    assert not safety.holds("2001:db8::/64", "203.0.113.9")


def test_the_frames_are_parsed_or_refused() -> None:
    rate = frames.parse_frame(
        {"type": "thread.rate", "score": 5, "comment": "x"}, operator=False
    )
    assert (rate.score, rate.comment) == (5, "x")  # type: ignore[union-attr]
    block = frames.parse_frame(
        {"type": "visitor.block", "thread": 3, "reason": "r", "network": True},
        operator=True,
    )
    assert (block.thread, block.network) == (3, True)  # type: ignore[union-attr]
    email = frames.parse_frame(
        {"type": "visitor.email", "email": "a@b.c", "website": "x"}, operator=False
    )
    assert email.trap  # type: ignore[union-attr]
    for bad, operator in [
        ({"type": "thread.rate", "score": 0}, False),
        ({"type": "thread.rate", "score": True}, False),
        ({"type": "thread.rate", "score": 3, "comment": "x" * 1001}, False),
        ({"type": "visitor.block", "thread": 3}, False),  # not a visitor's
        ({"type": "visitor.block", "thread": "3"}, True),
        ({"type": "thread.rate", "score": 3}, True),  # not an operator's
    ]:
        with pytest.raises(ChatError):
            frames.parse_frame(bad, operator=operator)
