"""A value that changes only when someone edits it (the appearance, the business
hours: one row each in the admin) but is read on every page and socket: each process
keeps a copy, and asks the shared cache at most every ``CHECK_EVERY`` seconds whether
it changed (a version key that ``changed()`` replaces), instead of reading the value
from Redis on every use (docs/performance.md). A copy is loaded again after
``max_age()`` seconds whatever the version says (a local-memory cache is not shared:
other processes see a change then); 0 keeps no copy.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.core.cache import cache

T = TypeVar("T")

CHECK_EVERY = 1.0  # seconds between two reads of the version key, per process


@dataclass(slots=True)
class _Held(Generic[T]):
    value: T
    version: str
    loaded_at: float
    checked_at: float


class LocalCopy(Generic[T]):
    def __init__(
        self,
        key: str,
        load: Callable[[], T],
        *,
        max_age: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = f"{key}:version"
        self.load = load
        self.max_age = max_age
        self.clock = clock
        self._held: _Held[T] | None = None

    def get(self) -> T:
        """The value: the copy, checked against the version once a second; loaded
        again when the version changed or the copy is ``max_age()`` old."""
        now = self.clock()
        max_age = self.max_age()
        held = self._held
        if held is not None and now - held.loaded_at < max_age:
            if now - held.checked_at < min(CHECK_EVERY, max_age):
                return held.value
            version = self._version()
            if version == held.version:
                held.checked_at = now
                return held.value
        else:
            version = self._version()
        value = self.load()  # after the version: a change meanwhile reloads it again
        self._held = _Held(value, version, now, now) if max_age > 0 else None
        return value

    def peek(self) -> T | None:
        """The copy if ``get`` would return it without asking the cache, else None:
        for the event loop, where the cache's client would block."""
        held = self._held
        now = self.clock()
        max_age = self.max_age()
        if held is None or now - held.loaded_at >= max_age:
            return None
        return held.value if now - held.checked_at < min(CHECK_EVERY, max_age) else None

    def changed(self) -> None:
        """The value changed (call it after commit): this process loads it at its
        next use, the others within CHECK_EVERY."""
        self._held = None
        cache.set(self.key, secrets.token_hex(8), timeout=None)

    def _version(self) -> str:
        version = cache.get(self.key)
        if version is None:  # never set, evicted, or the cache is away
            version = secrets.token_hex(8)
            if not cache.add(self.key, version, timeout=None):
                version = cache.get(self.key) or version
        return str(version)
