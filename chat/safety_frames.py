"""The frames of blocks and ratings (chat.frames hands them here): a visitor's
``thread.rate``, an operator's ``visitor.block`` and ``visitor.unblock``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from chat.exceptions import ChatError, ErrorCode

VISITOR_TYPES = frozenset({"thread.rate"})
OPERATOR_TYPES = frozenset({"visitor.block", "visitor.unblock"})
MAX_COMMENT = 1000
MAX_REASON = 300
HONEYPOT = "website"  # the pre-chat forms' hidden field (chat.consumers.safety)


@dataclass(frozen=True, slots=True)
class RateThread:
    score: int
    comment: str


@dataclass(frozen=True, slots=True)
class BlockVisitor:
    thread: int
    reason: str
    network: bool


@dataclass(frozen=True, slots=True)
class UnblockVisitor:
    thread: int


def _invalid(detail: str) -> ChatError:
    return ChatError(ErrorCode.INVALID, detail)


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise _invalid(_("“%(field)s” must be text.") % {"field": key})
    if len(value) > limit:
        raise ChatError(
            ErrorCode.TOO_LONG,
            _("“%(field)s” can be at most %(max)s characters.")
            % {"field": key, "max": limit},
        )
    return value


def _thread(data: dict[str, Any]) -> int:
    value = data.get("thread")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _invalid(_("“thread” must be a positive integer."))
    return value


def parse(
    kind: str, data: dict[str, Any]
) -> RateThread | BlockVisitor | UnblockVisitor:
    if kind == "thread.rate":
        score = data.get("score")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise _invalid(_("“score” must be a whole number from 1 to 5."))
        return RateThread(score=score, comment=_text(data, "comment", MAX_COMMENT))
    if kind == "visitor.block":
        network = data.get("network", False)
        if not isinstance(network, bool):
            raise _invalid(_("“network” must be true or false."))
        return BlockVisitor(
            thread=_thread(data),
            reason=_text(data, "reason", MAX_REASON),
            network=network,
        )
    return UnblockVisitor(thread=_thread(data))


def is_trap_filled(data: dict[str, Any]) -> bool:
    """Whether a pre-chat frame carries the hidden field only a bot fills."""
    value = data.get(HONEYPOT)
    return isinstance(value, str) and bool(value.strip())
