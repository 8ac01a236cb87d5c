"""Who is here: a visitor's open pages, and the connected operators.

Each socket keeps an entry fresh (on connect and on every ping) in the shared cache, so
presence is right across web processes. Entries expire after
``SOHBET_PRESENCE_TTL`` seconds without a ping, so a process that dies without
saying goodbye stops counting on its own. Updates are read-modify-write of one small
dict per subject: two sockets of the same subject racing may drop an entry, which the
next ping restores.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

OPERATORS = "presence:operators"
# An operator who said /online in Telegram counts as present this long (or /away).
TELEGRAM_TTL = 8 * 60 * 60


def visitor_key(thread_id: int) -> str:
    return f"presence:thread:{thread_id}"


def _live(entries: dict[str, float], now: float) -> dict[str, float]:
    return {conn: expires for conn, expires in entries.items() if expires > now}


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
    now = time.time()
    ttl = ttl or settings.SOHBET_PRESENCE_TTL
    try:
        entries = _live(cache.get(key) or {}, now)
        was_online = bool(entries)
        if present:
            entries[connection_id] = now + ttl
        else:
            entries.pop(connection_id, None)
        if entries:
            cache.set(key, entries, max(entries.values()) - now + 1)
        else:
            cache.delete(key)
        return was_online, bool(entries)
    except Exception:
        logger.warning("presence update failed for %s", key, exc_info=True)
        return False, present


def is_online(key: str) -> bool:
    try:
        return bool(_live(cache.get(key) or {}, time.time()))
    except Exception:
        logger.warning("presence read failed for %s", key, exc_info=True)
        return False


def online_threads(thread_ids: list[int]) -> set[int]:
    """Which of these threads have their visitor's page open."""
    if not thread_ids:
        return set()
    try:
        found = cache.get_many([visitor_key(pk) for pk in thread_ids])
    except Exception:
        logger.warning("presence read failed", exc_info=True)
        return set()
    now = time.time()
    return {
        int(key.rsplit(":", 1)[1])
        for key, entries in found.items()
        if _live(entries, now)
    }
