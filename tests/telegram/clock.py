"""A virtual clock for the bridge and the fake Bot API: time moves only when a test
advances it or when someone sleeps on it, so waits of minutes take no time."""

from __future__ import annotations

import asyncio
import threading


class VirtualClock:
    """Monotonic seconds; ``sleep`` moves the time forward by what it was asked and
    returns at once (after one turn of the event loop)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)
