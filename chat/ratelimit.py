"""Rate limits with rules from settings ("count/seconds").

``TokenBucket`` counts one connection's frames in memory. ``hit`` counts in the shared
cache, so a limit holds across every socket of a sender and every web process.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from chatsite.cache import async_redis

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rule:
    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rule:
        try:
            count, seconds = text.split("/")
            rule = cls(int(count), float(seconds))
        except ValueError:
            raise ImproperlyConfigured(
                f"a rate must look like 'count/seconds', got {text!r}"
            ) from None
        if rule.count < 1 or rule.seconds <= 0:
            raise ImproperlyConfigured(f"a rate must be positive, got {text!r}")
        return rule


@dataclass(slots=True)
class TokenBucket:
    """Allows ``rule.count`` events at once, refilled at count/seconds per second."""

    rule: Rule
    tokens: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.rule.count)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        rate = self.rule.count / self.rule.seconds
        self.tokens = min(self.rule.count, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def hit(key: str, rule: Rule) -> bool:
    """Count one event for ``key`` in the shared cache; False once ``rule.count``
    events fell in the current window of ``rule.seconds`` (fixed windows, the same in
    every process).

    Fails open: when the cache cannot be reached the event is allowed and a warning
    logged, so a Redis outage never stops messages (the per-connection limits still
    hold).
    """
    counters = caches[settings.RATELIMIT_USE_CACHE]  # with django-ratelimit's
    cache_key = f"ratelimit:{key}:{int(time.time() // rule.seconds)}"
    timeout = math.ceil(rule.seconds) + 1
    try:
        if counters.add(cache_key, 1, timeout):
            return True
        try:
            count = counters.incr(cache_key)
        except ValueError:  # the window expired between add() and incr()
            counters.add(cache_key, 1, timeout)
            return True
    except Exception as exc:
        logger.warning("rate limit %s not counted, cache unavailable: %s", key, exc)
        return True
    return count <= rule.count


def _redis_client() -> Any:
    """A redis.asyncio client for the counters' Redis on this event loop, or None when
    the counters are not in Redis (local memory: development and tests)."""
    config = settings.CACHES[settings.RATELIMIT_USE_CACHE]
    if "redis" not in str(config["BACKEND"]).lower():
        return None
    return async_redis()


_COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
    counts[i] = redis.call('INCR', key)
    if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[i]) end
end
return counts
"""


async def ahit(key: str, rule: Rule) -> bool:
    """``hit`` for async callers; see ``ahit_many``."""
    return (await ahit_many([(key, rule)]))[0]


async def ahit_many(hits: list[tuple[str, Rule]]) -> list[bool]:
    """Count one event for each (key, rule), in order; whether each is allowed.

    The message writer counts a whole batch's senders at once (the per-sender
    message limit, ``SOHBET_SEND_RATE``). On Redis that is one command on the event
    loop (a script: INCR, and EXPIRE on a window's first event, for every key)
    instead of a command per message, which cost about a fifth of the event loop at
    1,000 msg/s (docs/performance.md). Same fixed windows and the same fail-open
    rule as ``hit``; without Redis, ``hit`` for each, off the event loop.
    """
    if not hits:
        return []
    client = _redis_client()
    if client is None:
        return await sync_to_async(_hit_each, thread_sensitive=False)(hits)
    now = time.time()
    keys = [f"sohbet:ratelimit:{key}:{int(now // rule.seconds)}" for key, rule in hits]
    ttls = [math.ceil(rule.seconds) + 1 for _key, rule in hits]
    try:
        counts = await client.eval(_COUNT_SCRIPT, len(keys), *keys, *ttls)
    except Exception as exc:
        logger.warning("rate limits not counted, cache unavailable: %s", exc)
        return [True] * len(hits)
    return [
        int(count) <= rule.count
        for count, (_key, rule) in zip(counts, hits, strict=True)
    ]


def _hit_each(hits: list[tuple[str, Rule]]) -> list[bool]:
    return [hit(key, rule) for key, rule in hits]
