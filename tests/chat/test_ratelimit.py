"""The per-sender message limit, counted in Redis across processes (local memory
without it)."""

from __future__ import annotations

import pytest

from realtime.cache import redis_url, sync_redis
from realtime.ratelimit import Rule, hit, hit_many


def test_a_sender_is_limited_per_window_and_the_count_expires() -> None:
    rule = Rule(3, 60)
    assert [hit("send:visitor:1", rule) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert hit("send:visitor:2", rule)  # another sender counts apart
    if redis_url():
        keys = list(sync_redis().scan_iter(match="sohbet:ratelimit:send:visitor:1:*"))
        assert len(keys) == 1
        assert 0 < sync_redis().ttl(keys[0]) <= 61  # the window's count expires


def test_a_batch_is_counted_in_order_in_one_call() -> None:
    # The writer counts a batch's senders together: the same sender twice in one
    # batch counts twice, in order, and each key keeps its own rule.
    tight, loose = Rule(2, 60), Rule(100, 60)
    assert hit_many(
        [
            ("send:visitor:10", tight),
            ("send:operator:10", loose),
            ("send:visitor:10", tight),
            ("send:visitor:10", tight),
        ]
    ) == [True, True, True, False]
    assert hit_many([]) == []
    assert not hit("send:visitor:10", tight)  # the batch's counts remain


@pytest.mark.postgres_redis
def test_counting_fails_open_when_redis_is_unreachable(settings) -> None:
    from realtime import cache as shared
    from realtime import ratelimit

    reachable = settings.REDIS_CACHE_URL
    # Nothing listens on the discard port.
    settings.REDIS_CACHE_URL = "redis://127.0.0.1:9/0"
    shared._sync_client = None
    try:
        assert hit("send:visitor:3", Rule(1, 60))
        # Redis is back, but the writer does not ask again for every batch at once:
        # counting resumes after a few seconds.
        settings.REDIS_CACHE_URL = reachable
        shared._sync_client = None
        assert hit_many([("send:visitor:3", Rule(1, 60))] * 2) == [True, True]
        ratelimit._skip_redis_until = 0.0  # the few seconds are over
        assert hit_many([("send:visitor:3", Rule(1, 60))] * 2) == [True, False]
    finally:
        ratelimit._skip_redis_until = 0.0
        shared._sync_client = None
