"""Rate limits with rules from settings ("count/seconds").

``TokenBucket`` counts one connection's frames in memory. ``hit_many`` counts in the
shared counters (Redis), so a limit holds across every socket of a sender and every
web process.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from realtime.cache import async_redis, sync_redis

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
    """Count one event for ``key``; see ``hit_many``."""
    return hit_many([(key, rule)])[0]


def hit_many(hits: list[tuple[str, Rule]]) -> list[bool]:
    """Count one event for each (key, rule), in order, in the shared counters; for
    each, False once ``rule.count`` events fell in the current window of
    ``rule.seconds`` (fixed windows, the same in every process). On Redis one command
    for all (a script); without Redis the cache counts them one by one. Fails open:
    when the counters cannot be reached the events are allowed and a warning logged
    (a Redis outage never stops messages; the per-socket limits still hold).
    """
    answer = _without_redis(hits)
    if answer is not None:
        return answer
    keys, ttls = _window_keys(hits)
    try:
        counts = sync_redis().eval(_COUNT_SCRIPT, len(keys), *keys, *ttls)
    except Exception as exc:
        return _fail_open(hits, exc)
    return _within(hits, counts)


async def ahit_many(hits: list[tuple[str, Rule]]) -> list[bool]:
    """``hit_many`` on the event loop (the message writer on PostgreSQL)."""
    answer = _without_redis(hits)
    if answer is not None:
        return answer
    keys, ttls = _window_keys(hits)
    try:
        counts = await async_redis().eval(_COUNT_SCRIPT, len(keys), *keys, *ttls)
    except Exception as exc:
        return _fail_open(hits, exc)
    return _within(hits, counts)


def _without_redis(hits: list[tuple[str, Rule]]) -> list[bool] | None:
    """The answer when Redis is not to be asked (no hits, no Redis, or it just
    failed); None when it is."""
    if not hits:
        return []
    config = settings.CACHES[settings.RATELIMIT_USE_CACHE]
    if "redis" not in str(config["BACKEND"]).lower():
        return [_cache_hit(key, rule) for key, rule in hits]
    if time.monotonic() < _skip_redis_until:
        return [True] * len(hits)  # it just failed: not again for every batch
    return None


def _window_keys(hits: list[tuple[str, Rule]]) -> tuple[list[str], list[int]]:
    now = time.time()
    keys = [f"sohbet:ratelimit:{key}:{int(now // rule.seconds)}" for key, rule in hits]
    ttls = [math.ceil(rule.seconds) + 1 for _key, rule in hits]
    return keys, ttls


def _fail_open(hits: list[tuple[str, Rule]], exc: Exception) -> list[bool]:
    # The writer waits for this call: while Redis is unreachable (a connect timeout,
    # not a refusal, when its host is gone) every batch would wait for it again.
    # Fail open without asking for a few seconds instead.
    global _skip_redis_until
    _skip_redis_until = time.monotonic() + REDIS_RETRY_AFTER
    logger.warning(
        "rate limits not counted for %s s, cache unavailable: %s",
        REDIS_RETRY_AFTER,
        exc,
    )
    return [True] * len(hits)


def _within(hits: list[tuple[str, Rule]], counts: list[int]) -> list[bool]:
    return [
        int(count) <= rule.count
        for count, (_key, rule) in zip(counts, hits, strict=True)
    ]


REDIS_RETRY_AFTER = 5.0
_skip_redis_until = 0.0

_COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
    counts[i] = redis.call('INCR', key)
    if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[i]) end
end
return counts
"""


def _cache_hit(key: str, rule: Rule) -> bool:
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
