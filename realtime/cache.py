"""Redis cache backends that keep the site up while Redis is away (nothing lives only in
the cache: sessions are in the database, presence and counters expire).

- ``ForgivingRedisCache`` (the default cache) acts as an empty cache: reads miss,
  writes are dropped, each failure logged.
- ``RateCounterRedisCache`` (django-ratelimit's counters) raises
  ``CountersUnavailable``, a ``Ratelimited``: a limited view fails closed (429) unless
  it catches it and serves anyway (fails open). django-ratelimit's
  ``RATELIMIT_FAIL_OPEN`` does not apply: Django's Redis backend raises.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property
from django_ratelimit.exceptions import Ratelimited
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class OneClientPerPool(RedisCacheClient):
    """Django's Redis cache client, which builds a ``redis.Redis`` for every
    operation (each builds its table of reply callbacks: 0.1-0.2 ms, a few times per
    page view); here one per connection pool, which redis-py's clients allow."""

    # Set by RedisCacheClient (not in django-stubs).
    _client: Any
    _get_connection_pool: Callable[[bool], Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis_clients: dict[Any, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._redis_clients.get(pool)
        if client is None:
            client = self._redis_clients[pool] = self._client(connection_pool=pool)
        return client


class SharedClientRedisCache(RedisCache):
    """Django's Redis cache with one client, hence one connection pool, per process.

    ``django.core.cache.caches`` hands out one backend instance per async context,
    and Channels runs every WebSocket consumer in its own: each socket built its own
    client and kept its own Redis connection for its whole life (2,000 sockets held
    2,043 Redis connections and twice the file descriptors; docs/performance.md).
    redis-py's connection pool is thread-safe, and ``close()`` is a no-op for Django's
    Redis cache, so the instances can share it.
    """

    _clients: ClassVar[dict[tuple[str, str, str], Any]] = {}
    _clients_lock: ClassVar[threading.Lock] = threading.Lock()
    # Set by RedisCache.__init__ (not in django-stubs).
    _servers: list[str]
    _options: dict[str, Any]
    _class: Any

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = OneClientPerPool

    @cached_property
    def _cache(self) -> Any:
        key = (
            type(self).__qualname__,
            ",".join(self._servers),
            repr(sorted(self._options.items())),
        )
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._class(
                    self._servers, **self._options
                )
        return client


class ForgivingRedisCache(SharedClientRedisCache):
    """Django's Redis cache; while Redis cannot be reached, an empty cache."""

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return _forgive(False, super().add, *args, **kwargs)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return _forgive(default, super().get, key, default, version)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return _forgive(None, super().set, *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return _forgive(False, super().touch, *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return _forgive(False, super().delete, *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return _forgive({}, super().get_many, *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return _forgive(False, super().has_key, *args, **kwargs)

    def set_many(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        return _forgive(list(data), super().set_many, data, *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return _forgive(None, super().delete_many, *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().incr(*args, **kwargs)
        except RedisError as exc:
            logger.warning("cache incr skipped, Redis unavailable: %s", exc)
            raise ValueError("the cache is unavailable") from exc  # as a missing key


def _forgive(
    fallback: Any, method: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    try:
        return method(*args, **kwargs)
    except RedisError as exc:
        logger.warning("cache %s skipped, Redis unavailable: %s", method.__name__, exc)
        return fallback


class CountersUnavailable(Ratelimited):
    """The rate counters cannot be reached: the request cannot be counted."""


class RateCounterRedisCache(SharedClientRedisCache):
    """Django's Redis cache for rate counters; see the module docstring."""

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return _count(super().add, *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return _count(super().get, *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        return _count(super().incr, *args, **kwargs)


def _count(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return method(*args, **kwargs)
    except RedisError as exc:
        logger.warning("rate limit not counted, Redis unavailable: %s", exc)
        raise CountersUnavailable() from exc


# --- Direct Redis clients -------------------------------------------------------------
# For the few hot paths that need one round trip where the cache API takes two (rate
# counters, presence). Same Redis database as the caches (REDIS_CACHE_URL); same 2-s
# timeouts.

_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
    weakref.WeakKeyDictionary()
)
_sync_client: Any = None
ASYNC_POOL_SIZE = 100  # connections of one event loop's client
ASYNC_POOL_WAIT = 10.0  # seconds a call may wait for one of them
_sync_client_lock = threading.Lock()


def redis_url() -> str:
    """The Redis of the caches, or "" when they are in local memory."""
    return str(getattr(settings, "REDIS_CACHE_URL", "") or "")


def async_redis() -> Any:
    """A redis.asyncio client for this event loop (one per loop and process)."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        import redis.asyncio

        # A burst of calls beyond the pool's connections (every socket of a process
        # closing at once) waits for a free one instead of failing.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            redis_url(),
            max_connections=ASYNC_POOL_SIZE,
            timeout=ASYNC_POOL_WAIT,
            socket_timeout=2,
            socket_connect_timeout=2,
        )
        client = _async_clients[loop] = redis.asyncio.Redis(connection_pool=pool)
    return client


def sync_redis() -> Any:
    """A redis-py client (thread-safe; one per process)."""
    global _sync_client
    with _sync_client_lock:
        if _sync_client is None:
            import redis

            _sync_client = redis.Redis.from_url(
                redis_url(), socket_timeout=2, socket_connect_timeout=2
            )
        return _sync_client
