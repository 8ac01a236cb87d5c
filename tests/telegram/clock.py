"""A virtual clock for the bridge and the fake Bot API: time moves only when a test
advances it or when someone sleeps on it, so waits of minutes take no time."""

from __future__ import annotations

import asyncio
import threading


class VirtualClock:
    """Monotonic seconds. By default ``sleep`` moves the time forward by what it was
    asked and returns at once; with ``autojump=False`` a sleeper waits until a test
    ``advance``s the time past its end (to see what happens meanwhile)."""

    def __init__(self, start: float = 1000.0, *, autojump: bool = True) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.autojump = autojump
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)
            now = self._now
        due = [(end, fut) for end, fut in self._sleepers if end <= now]
        self._sleepers = [(end, fut) for end, fut in self._sleepers if end > now]
        for _end, future in due:
            if not future.done():
                future.set_result(None)

    async def sleep(self, seconds: float) -> None:
        if self.autojump:
            self.advance(seconds)
            await asyncio.sleep(0)
            return
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now() + seconds, future))
        await future
