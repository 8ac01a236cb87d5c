"""The per-sender message limit, counted in Redis across processes (local memory
without it)."""

from __future__ import annotations

import pytest

from chat.ratelimit import Rule, ahit
from chatsite.cache import redis_url, sync_redis


async def test_a_sender_is_limited_per_window_and_the_count_expires() -> None:
    rule = Rule(3, 60)
    assert [await ahit("send:visitor:1", rule) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert await ahit("send:visitor:2", rule)  # another sender counts apart
    if redis_url():
        keys = list(sync_redis().scan_iter(match="sohbet:ratelimit:send:visitor:1:*"))
        assert len(keys) == 1
        assert 0 < sync_redis().ttl(keys[0]) <= 61  # the window's count expires


@pytest.mark.postgres_redis
async def test_counting_fails_open_when_redis_is_unreachable(settings) -> None:
    from chatsite import cache as shared

    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    shared._async_clients.clear()
    try:
        assert await ahit("send:visitor:3", Rule(1, 60))
        assert await ahit("send:visitor:3", Rule(1, 60))
    finally:
        shared._async_clients.clear()
