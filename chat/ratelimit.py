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
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


async def ahit(key: str, rule: Rule) -> bool:
    """``hit`` for async callers (the sockets' per-sender message limit).

    On Redis it counts on the event loop with one command (a two-line script: INCR,
    and EXPIRE on the window's first event) instead of a thread-pool hop and two
    blocking calls per message, which cost about a quarter of the server's CPU at 600
    msg/s, or a redis-py pipeline, which cost twice the script (docs/performance.md).
    Same fixed windows and the same fail-open rule as ``hit``.
    """
    client = _redis_client()
    if client is None:
        return await sync_to_async(hit, thread_sensitive=False)(key, rule)
    window = int(time.time() // rule.seconds)
    cache_key = f"sohbet:ratelimit:{key}:{window}"
    try:
        count = await client.eval(
            _COUNT_SCRIPT, 1, cache_key, math.ceil(rule.seconds) + 1
        )
    except Exception as exc:
        logger.warning("rate limit %s not counted, cache unavailable: %s", key, exc)
        return True
    return int(count) <= rule.count
