"""The events of blocks and ratings (their shapes and constructors; the groups are
chat.events')."""

from __future__ import annotations

from typing import Any, Final, Literal, TypedDict

from chat.events import OPERATORS_GROUP, VISITORS_GROUP, thread_group
from realtime.delivery import Event

BLOCK: Final = "chat.block"  # a block made or lifted: to every visitor socket
EXTRA: Final = "chat.extra"  # a thread's block and rating (operators)
RATING: Final = "chat.rating"  # the visitor rated: to their thread's sockets


class BlockEvent(TypedDict):
    type: Literal["chat.block"]
    block: int
    visitor: int | None
    network: str
    blocked: bool


class ExtraEvent(TypedDict):
    type: Literal["chat.extra"]
    extra: dict[str, Any]  # chat.safety.get_thread_extra()


class RatingEvent(TypedDict):
    type: Literal["chat.rating"]
    thread: int
    rating: dict[str, Any] | None  # chat.safety.rating_payload()


def block_event(
    *, block: int, visitor: int | None, network: str, blocked: bool
) -> Event:
    """To every visitor socket: each decides whether it is concerned (its visitor,
    or its address in the network; chat.safety.BlockState)."""
    event: BlockEvent = {
        "type": BLOCK,
        "block": block,
        "visitor": visitor,
        "network": network,
        "blocked": blocked,
    }
    return VISITORS_GROUP, event


def extra_event(extra: dict[str, Any]) -> Event:
    event: ExtraEvent = {"type": EXTRA, "extra": extra}
    return OPERATORS_GROUP, event


def rating_events(
    *, thread: int, rating: dict[str, Any], extra: dict[str, Any]
) -> list[Event]:
    """The visitor's other tabs learn of their rating; the operators see it."""
    event: RatingEvent = {"type": RATING, "thread": thread, "rating": rating}
    return [(thread_group(thread), event), extra_event(extra)]
