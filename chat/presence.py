"""Who is here: a visitor's open pages, and the connected operators.

Each socket keeps an entry fresh (on connect, and after its pings: a process's
sockets that pinged are refreshed together every ``REFRESH_EVERY`` seconds) under its
subject (a thread's visitor, or the operators); entries expire after
``SOHBET_PRESENCE_TTL`` seconds without a refresh, so a process that dies stops
counting on its own. With Redis a
subject is a sorted set of connection ids scored by expiry, changed by one Lua script
in one round trip on the event loop (atomic: two sockets of one subject never lose
each other's entries); without Redis, the local-memory cache. Presence is a hint:
every failure is logged and reads as "not online".
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any

from django.conf import settings
from django.core.cache import cache

from realtime.cache import async_redis, redis_url, sync_redis

logger = logging.getLogger(__name__)

OPERATORS = "presence:operators"
# An operator who said /online in Telegram counts as present this long (or /away).
TELEGRAM_TTL = 8 * 60 * 60
REDIS_PREFIX = "sohbet:"
# A socket that pinged is refreshed within this many seconds: one round trip for all
# of a process's instead of one per ping (a ping every 25 s, or every 60 s from a tab
# the browser throttles, stays well within SOHBET_PRESENCE_TTL).
REFRESH_EVERY = 5.0

# KEYS[1] the subject; ARGV: now, connection id, expiry ("" = remove the entry).
# Returns {entries before, entries after} (live ones).
_SCRIPT = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local before = redis.call('ZCARD', KEYS[1])
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[1], ARGV[2])
else
  redis.call('ZADD', KEYS[1], tonumber(ARGV[3]), ARGV[2])
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] == nil then
  return {before, 0}
end
redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(last[2]) * 1000) + 1000)
return {before, redis.call('ZCARD', KEYS[1])}
"""


def visitor_key(thread_id: int) -> str:
    return f"presence:thread:{thread_id}"


def operator_key(user_id: int) -> str:
    """One operator's connections (away or not; OPERATORS holds those not away)."""
    return f"presence:operator:{user_id}"


def telegram_connection(user_id: int) -> str:
    """The entry of an operator who said /online in Telegram."""
    return f"telegram:{user_id}"


def _ttl(ttl: float | None) -> float:
    return float(ttl or settings.SOHBET_PRESENCE_TTL)


def _args(connection_id: str, present: bool, ttl: float | None) -> list[Any]:
    now = time.time()
    return [repr(now), connection_id, repr(now + _ttl(ttl)) if present else ""]


def _answer(result: Any) -> tuple[bool, bool]:
    before, after = result
    return int(before) > 0, int(after) > 0


# --- Synchronous (the bridge, the admin, tests) -----------------------------------


def touch(key: str, connection_id: str, ttl: float | None = None) -> tuple[bool, bool]:
    """Mark a connection present under ``key`` for ``ttl`` seconds (default
    SOHBET_PRESENCE_TTL). Returns (was_online, is_online)."""
    return _update(key, connection_id, present=True, ttl=ttl)


def leave(key: str, connection_id: str) -> tuple[bool, bool]:
    """Forget a connection under ``key``. Returns (was_online, is_online)."""
    return _update(key, connection_id, present=False)


def _update(
    key: str, connection_id: str, *, present: bool, ttl: float | None = None
) -> tuple[bool, bool]:
    try:
        if redis_url():
            client = sync_redis()
            result = client.eval(
                _SCRIPT, 1, REDIS_PREFIX + key, *_args(connection_id, present, ttl)
            )
            return _answer(result)
        return _update_in_cache(key, connection_id, present=present, ttl=ttl)
    except Exception:
        logger.warning("presence update failed for %s", key, exc_info=True)
        return False, present


def is_online(key: str) -> bool:
    try:
        if redis_url():
            return bool(
                sync_redis().zcount(REDIS_PREFIX + key, f"({time.time()!r}", "+inf")
            )
        return bool(_live(cache.get(key) or {}, time.time()))
    except Exception:
        logger.warning("presence read failed for %s", key, exc_info=True)
        return False


def online_threads(thread_ids: list[int]) -> set[int]:
    """Which of these threads have their visitor's page open."""
    return _online(thread_ids, visitor_key)


def online_operators(user_ids: list[int]) -> set[int]:
    """Which of these operators have a connection (a socket, or Telegram's /online)."""
    return _online(user_ids, operator_key)


def _online(ids: list[int], key_of: Any) -> set[int]:
    """Which of ``ids`` have a live entry under ``key_of(id)``: one round trip."""
    if not ids:
        return set()
    now = time.time()
    try:
        if redis_url():
            with sync_redis().pipeline(transaction=False) as pipe:
                _count_live(pipe, ids, key_of, now)
                return _with_live(ids, pipe.execute())
        found = cache.get_many([key_of(pk) for pk in ids])
    except Exception:
        logger.warning("presence read failed", exc_info=True)
        return set()
    return {
        int(key.rsplit(":", 1)[1])
        for key, entries in found.items()
        if _live(entries, now)
    }


def _count_live(pipe: Any, ids: list[int], key_of: Any, now: float) -> None:
    for pk in ids:
        pipe.zcount(REDIS_PREFIX + key_of(pk), f"({now!r}", "+inf")


def _with_live(thread_ids: list[int], counts: list[int]) -> set[int]:
    return {pk for pk, count in zip(thread_ids, counts, strict=True) if count}


# --- On the event loop (the sockets) ------------------------------------------------


async def atouch(
    key: str, connection_id: str, ttl: float | None = None
) -> tuple[bool, bool]:
    """``touch`` for the sockets: one round trip on the event loop."""
    return await _aupdate(key, connection_id, present=True, ttl=ttl)


async def aleave(key: str, connection_id: str) -> tuple[bool, bool]:
    """``leave`` for the sockets (after any refresh on its way: a refresh never
    brings back an entry that left)."""
    refresher = _refresher()
    refresher.due.pop((key, connection_id), None)
    async with refresher.lock:
        return await _aupdate(key, connection_id, present=False)


def keep(key: str, connection_id: str) -> None:
    """A socket pinged: its entry is refreshed with the next ones (no I/O here)."""
    _refresher().mark(key, connection_id)


async def arefresh() -> None:
    """Refresh the entries of the sockets that pinged since the last refresh, in one
    round trip (the refresher calls it every ``REFRESH_EVERY`` seconds)."""
    refresher = _refresher()
    async with refresher.lock:
        due, refresher.due = list(refresher.due), {}
        if not due:
            return
        if not redis_url():
            for key, connection_id in due:
                _update(key, connection_id, present=True)
            return
        try:
            async with async_redis().pipeline(transaction=False) as pipe:
                for key, connection_id in due:
                    args = _args(connection_id, True, None)
                    pipe.eval(_SCRIPT, 1, REDIS_PREFIX + key, *args)
                await pipe.execute()
        except Exception:
            logger.warning("presence refresh failed", exc_info=True)


class _Refresher:
    def __init__(self) -> None:
        self.due: dict[tuple[str, str], None] = {}
        self.lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None

    def mark(self, key: str, connection_id: str) -> None:
        self.due[(key, connection_id)] = None
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self.due:
            await asyncio.sleep(REFRESH_EVERY)
            await arefresh()


_refreshers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Refresher] = (
    weakref.WeakKeyDictionary()
)


def _refresher() -> _Refresher:
    loop = asyncio.get_running_loop()
    refresher = _refreshers.get(loop)
    if refresher is None:
        refresher = _refreshers[loop] = _Refresher()
    return refresher


async def _aupdate(
    key: str, connection_id: str, *, present: bool, ttl: float | None = None
) -> tuple[bool, bool]:
    if not redis_url():  # local memory: no I/O to wait for
        return _update(key, connection_id, present=present, ttl=ttl)
    try:
        result = await async_redis().eval(
            _SCRIPT, 1, REDIS_PREFIX + key, *_args(connection_id, present, ttl)
        )
        return _answer(result)
    except Exception:
        logger.warning("presence update failed for %s", key, exc_info=True)
        return False, present


async def ais_online(key: str) -> bool:
    """``is_online`` for the sockets."""
    if not redis_url():
        return is_online(key)
    try:
        count = await async_redis().zcount(
            REDIS_PREFIX + key, f"({time.time()!r}", "+inf"
        )
    except Exception:
        logger.warning("presence read failed for %s", key, exc_info=True)
        return False
    return bool(count)


async def aonline_threads(thread_ids: list[int]) -> set[int]:
    """``online_threads`` on the event loop (the message writer's thread events)."""
    if not thread_ids or not redis_url():  # local memory: no I/O to wait for
        return online_threads(thread_ids)
    try:
        async with async_redis().pipeline(transaction=False) as pipe:
            _count_live(pipe, thread_ids, visitor_key, time.time())
            return _with_live(thread_ids, await pipe.execute())
    except Exception:
        logger.warning("presence read failed", exc_info=True)
        return set()


# --- Without Redis: entries in the local-memory cache -------------------------------


def _live(entries: dict[str, float], now: float) -> dict[str, float]:
    return {conn: expires for conn, expires in entries.items() if expires > now}


def _update_in_cache(
    key: str, connection_id: str, *, present: bool, ttl: float | None
) -> tuple[bool, bool]:
    now = time.time()
    entries = _live(cache.get(key) or {}, now)
    was_online = bool(entries)
    if present:
        entries[connection_id] = now + _ttl(ttl)
    else:
        entries.pop(connection_id, None)
    if entries:
        cache.set(key, entries, max(entries.values()) - now + 1)
    else:
        cache.delete(key)
    return was_online, bool(entries)
