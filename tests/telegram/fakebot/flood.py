"""Telegram's flood control, as the fake Bot API enforces it.

Telegram documents three limits for a bot (core.telegram.org/bots/faq, "My bot is
hitting limits"): about one message a second in a chat (short bursts pass), at most
20 messages a minute in a group, and about 30 messages a second in all. The fake
counts the messages a bot posts (``MESSAGE_METHODS``) in sliding windows of those
sizes; the one too many is answered 429 with ``retry_after``.

Every 429 (a window full, or one queued with ``fail_next``) starts a flood wait on
its scope (the chat, or the method for calls without a chat): until it ends, each
call in that scope is answered 429 again and recorded as a ``Violation``, the mark of
a client that did not honour ``retry_after``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

# Calls that post a message in a chat (forum topic changes post a service message).
MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendVoice",
        "sendAudio",
        "sendDocument",
        "createForumTopic",
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
    }
)
# Calls with a chat_id that only read: never held by a flood wait.
READ_METHODS = frozenset({"getChat"})


@dataclass(frozen=True)
class Window:
    """At most ``count`` messages within any ``seconds``."""

    count: int
    seconds: float


@dataclass(frozen=True)
class FloodRules:
    """The limits the fake enforces; the defaults are Telegram's documented ones.

    ``per_chat`` holds in every chat ("one a second, short bursts": 3 within any 3 s),
    ``per_group`` in groups and supergroups, ``overall`` across all chats. None
    switches a limit off.
    """

    per_chat: Window | None = Window(3, 3.0)
    per_group: Window | None = Window(20, 60.0)
    overall: Window | None = Window(30, 1.0)

    @classmethod
    def off(cls) -> FloodRules:
        return cls(None, None, None)

    def scaled(self, factor: float) -> FloodRules:
        """The same counts within windows ``factor`` times as long (0.1: ten times
        as fast), for tests that must not wait Telegram's minute."""

        def scale(window: Window | None) -> Window | None:
            return replace(window, seconds=window.seconds * factor) if window else None

        return FloodRules(
            scale(self.per_chat), scale(self.per_group), scale(self.overall)
        )


TELEGRAM = FloodRules()


@dataclass(frozen=True)
class Violation:
    """A call made while its scope was in a flood wait."""

    method: str
    chat_id: int | None
    at: float
    wait_ends_at: float


class FloodControl:
    """The windows and flood waits of one fake server (its lock held by callers)."""

    def __init__(self, rules: FloodRules, clock: Callable[[], float]) -> None:
        self.rules = rules
        self.clock = clock
        self.violations: list[Violation] = []
        self._sent: dict[object, deque[float]] = {}
        self._waits: dict[object, float] = {}

    def refusal(self, method: str, chat_id: int | None, is_group: bool) -> int | None:
        """The ``retry_after`` of a 429 for this call, or None when it may pass.

        A call during a flood wait is recorded as a violation; a message beyond a
        window starts a flood wait.
        """
        now = self.clock()
        scope = _scope(method, chat_id)
        if scope is not None:
            ends = self._waits.get(scope, 0.0)
            if now < ends:
                self.violations.append(Violation(method, chat_id, now, ends))
                return max(1, math.ceil(ends - now))
        if method not in MESSAGE_METHODS or chat_id is None:
            return None
        for key, window in self._windows(chat_id, is_group):
            sent = self._sent.setdefault(key, deque())
            while sent and sent[0] <= now - window.seconds:
                sent.popleft()
            if len(sent) >= window.count:
                retry_after = max(1, math.ceil(sent[0] + window.seconds - now))
                self.refused(method, chat_id, retry_after)
                return retry_after
        return None

    def refused(self, method: str, chat_id: int | None, retry_after: float) -> None:
        """A 429 was answered: its scope waits ``retry_after`` seconds."""
        scope = _scope(method, chat_id)
        if scope is not None:
            ends = self.clock() + retry_after
            self._waits[scope] = max(self._waits.get(scope, 0.0), ends)

    def accepted(self, method: str, chat_id: int | None, is_group: bool) -> None:
        """A call was answered ok: a message counts in its windows."""
        if method not in MESSAGE_METHODS or chat_id is None:
            return
        now = self.clock()
        for key, _window in self._windows(chat_id, is_group):
            self._sent.setdefault(key, deque()).append(now)

    def _windows(self, chat_id: int, is_group: bool) -> list[tuple[object, Window]]:
        rules = self.rules
        windows: list[tuple[object, Window]] = []
        if rules.per_chat is not None:
            windows.append((("chat", chat_id), rules.per_chat))
        if is_group and rules.per_group is not None:
            windows.append((("group", chat_id), rules.per_group))
        if rules.overall is not None:
            windows.append((("all",), rules.overall))
        return windows


def _scope(method: str, chat_id: int | None) -> object:
    if method in READ_METHODS:
        return None
    return ("chat", chat_id) if chat_id is not None else ("method", method)
