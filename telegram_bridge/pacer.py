"""One pacer for every call the bridge makes to a chat, ahead of Telegram's limits.

Each message waits for a token of its chat, its group and the whole bot (``Limits``,
from settings): small buckets that refill so that no window ever takes more than its
limit, with an exact count of the last window behind them. Calls to a chat take
turns, first come first served. A 429 holds its chat for ``retry_after``, whichever
part of the bridge made the call. The clock is injectable: tests run minutes of it
in no time.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.conf import settings
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

T = TypeVar("T")
# Waits shorter than this are none (a float clock would never get past them).
_EPSILON = 1e-6


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Monotonic time and asyncio's sleep."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``count`` messages within any ``seconds``."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"20/60"``: 20 within 60 seconds. Raises ValueError."""
        count, _sep, seconds = text.partition("/")
        rate = cls(int(count), float(seconds))
        if rate.count < 1 or rate.seconds <= 0:
            raise ValueError(f"a rate is count/seconds, both above 0: {text!r}")
        return rate


@dataclass(frozen=True, slots=True)
class Limits:
    per_chat: Rate = Rate(3, 3.0)
    per_group: Rate = Rate(20, 60.0)
    overall: Rate = Rate(30, 1.0)

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            Rate.parse(settings.TELEGRAM_RATE_PER_CHAT),
            Rate.parse(settings.TELEGRAM_RATE_PER_GROUP),
            Rate.parse(settings.TELEGRAM_RATE_OVERALL),
        )


def _allowed(rate: Rate) -> int:
    """How many of a window's ``count`` the bridge uses: one less, when that leaves a
    burst, for what the bridge cannot see (a clock running a little fast)."""
    return rate.count - 1 if rate.count > 4 else rate.count


class _Bucket:
    """``capacity`` tokens, refilled so that ``capacity`` plus a window's refill stays
    within what ``_allowed`` gives the window."""

    def __init__(self, rate: Rate, now: float) -> None:
        self.capacity = float(max(1, rate.count // 3))
        refill = max(_allowed(rate) - self.capacity, 1.0)
        self.per_second = refill / rate.seconds
        self.tokens = self.capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.per_second)
        self.updated = now

    def wait(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_second

    def available(self, now: float) -> float:
        self._refill(now)
        return self.tokens

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


class _Recent:
    """When the last messages of a window were answered (the exact guard)."""

    def __init__(self, rate: Rate) -> None:
        self.seconds = rate.seconds
        self.allowed = _allowed(rate)
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.allowed:
            return 0.0
        return self.times[0] + self.seconds - now

    def add(self, now: float) -> None:
        self.times.append(now)


class Pacer:
    """Waits before each call so that no limit is reached; see the module docstring.

    A scope is a chat id (negative for groups, as Telegram numbers them) or any
    other key for calls that name no chat (``"getFile"``).
    """

    def __init__(self, limits: Limits | None = None, clock: Clock | None = None):
        self.limits = limits or Limits()
        self.clock: Clock = clock or SystemClock()
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._held_until: dict[Hashable, float] = {}
        self._buckets: dict[tuple[str, Hashable], _Bucket] = {}
        self._recent: dict[tuple[str, Hashable], _Recent] = {}

    # --- Asking ----------------------------------------------------------------------

    @asynccontextmanager
    async def turn(self, scope: Hashable) -> AsyncIterator[Turn]:
        """The scope to oneself (calls in it wait their turn) for several calls."""
        lock = self._locks.setdefault(scope, asyncio.Lock())
        async with lock:
            yield Turn(self, scope)

    async def call(
        self,
        scope: Hashable,
        send: Callable[[], Awaitable[T]],
        *,
        posts: bool = True,
        attempts: int = 3,
    ) -> T:
        """One call in a turn of its own; a 429 is waited out and the call tried
        again, ``attempts`` times in all. Telegram's errors come out as raised."""
        for attempt in range(1, attempts + 1):
            async with self.turn(scope) as turn:
                try:
                    return await turn.call(send, posts=posts)
                except RetryAfter:
                    if attempt == attempts:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def call_if_soon(
        self, scope: Hashable, send: Callable[[], Awaitable[object]], within: float
    ) -> bool:
        """Make a call that posts nothing only if it can go within ``within``
        seconds (a typing indicator is worth nothing late); False when skipped."""
        if self.ready_in(scope, posts=False) > within:
            return False
        lock = self._locks.setdefault(scope, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), timeout=within)
        except TimeoutError:
            return False
        try:
            if self.ready_in(scope, posts=False) > 0:
                return False
            await Turn(self, scope).call(send, posts=False)
        finally:
            lock.release()
        return True

    def ready_in(self, scope: Hashable, *, posts: bool = True) -> float:
        """Seconds before a call in ``scope`` may go (0: now)."""
        now = self.clock.now()
        waits = [self._held_until.get(scope, 0.0) - now]
        for key, rate in self._limits_for(scope, posts):
            waits.append(self._bucket(key, rate).wait(now))
            if posts:
                waits.append(self._recent_of(key, rate).wait(now))
        wait = max(waits)
        return wait if wait > _EPSILON else 0.0

    def budget(self, scope: Hashable) -> int:
        """How many messages ``scope`` may take in the coming while: the tokens of
        its group's bucket (its own, for a chat that is not a group)."""
        limits = dict(self._limits_for(scope, True))
        key: tuple[str, Hashable] = ("group", scope)
        if key not in limits:
            key = ("chat", scope)
        if key not in limits:
            return 0
        return int(self._bucket(key, limits[key]).available(self.clock.now()))

    def hold(self, scope: Hashable, seconds: float) -> None:
        """Nothing goes to ``scope`` for ``seconds`` (Telegram's retry_after, or a
        chat that refuses the bot for now)."""
        until = self.clock.now() + seconds
        self._held_until[scope] = max(self._held_until.get(scope, 0.0), until)

    # --- Inside a turn ---------------------------------------------------------------

    async def _wait_ready(self, scope: Hashable, posts: bool) -> None:
        while (delay := self.ready_in(scope, posts=posts)) > 0:
            await self.clock.sleep(delay)

    def _took(self, scope: Hashable, posts: bool) -> None:
        now = self.clock.now()
        for key, rate in self._limits_for(scope, posts):
            self._bucket(key, rate).take(now)

    def _answered(self, scope: Hashable, posts: bool) -> None:
        if not posts:
            return
        now = self.clock.now()
        for key, rate in self._limits_for(scope, posts):
            self._recent_of(key, rate).add(now)

    def _limits_for(
        self, scope: Hashable, posts: bool
    ) -> list[tuple[tuple[str, Hashable], Rate]]:
        if not isinstance(scope, int):
            return []
        limits = self.limits
        if not posts:
            return [(("light", scope), limits.per_chat)]
        found: list[tuple[tuple[str, Hashable], Rate]] = [
            (("chat", scope), limits.per_chat)
        ]
        if scope < 0:
            found.append((("group", scope), limits.per_group))
        found.append((("all", None), limits.overall))
        return found

    def _bucket(self, key: tuple[str, Hashable], rate: Rate) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate, self.clock.now())
        return bucket

    def _recent_of(self, key: tuple[str, Hashable], rate: Rate) -> _Recent:
        recent = self._recent.get(key)
        if recent is None:
            recent = self._recent[key] = _Recent(rate)
        return recent


class Turn:
    """A scope held by one caller; each ``call`` still waits for the limits."""

    def __init__(self, pacer: Pacer, scope: Hashable) -> None:
        self.pacer = pacer
        self.scope = scope

    async def ready(self, *, posts: bool = True) -> None:
        """Wait until a call may go (without making one)."""
        await self.pacer._wait_ready(self.scope, posts)

    async def call(self, send: Callable[[], Awaitable[T]], *, posts: bool = True) -> T:
        """Wait for the limits, then ``send()``. A 429 holds the scope for its
        ``retry_after`` and is raised."""
        pacer = self.pacer
        await pacer._wait_ready(self.scope, posts)
        pacer._took(self.scope, posts)
        try:
            return await send()
        except RetryAfter as exc:
            pacer.hold(self.scope, retry_after_seconds(exc))
            raise
        finally:
            pacer._answered(self.scope, posts)


def retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds (python-telegram-bot gives an int or a timedelta,
    and warns that the int goes: either is read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: object = exc.retry_after
    seconds = getattr(value, "total_seconds", None)
    return float(seconds() if callable(seconds) else value)  # type: ignore[arg-type]
