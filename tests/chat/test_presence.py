"""Presence entries: shared by every web process (Redis) or in local memory."""

from __future__ import annotations

import asyncio
import time

from chat import presence


def test_a_subject_is_online_while_any_of_its_connections_is() -> None:
    key = presence.visitor_key(1)
    assert presence.touch(key, "tab-1") == (False, True)
    assert presence.touch(key, "tab-2") == (True, True)
    assert presence.leave(key, "tab-1") == (True, True)
    assert presence.is_online(key)
    assert presence.online_threads([1, 2]) == {1}
    assert presence.leave(key, "tab-2") == (True, False)
    assert not presence.is_online(key)
    assert presence.online_threads([1, 2]) == set()


def test_entries_expire_without_pings(settings) -> None:
    settings.SOHBET_PRESENCE_TTL = 0.2
    key = presence.visitor_key(7)
    presence.touch(key, "tab")
    assert presence.is_online(key)
    deadline = time.monotonic() + 5
    while presence.is_online(key) and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting for the entry's own expiry, with a deadline
    assert not presence.is_online(key)
    assert presence.touch(key, "tab") == (False, True)  # a ping brings it back


def test_a_short_entry_does_not_cut_a_long_one_short() -> None:
    """An operator's /online from Telegram lasts hours; a socket's entry a minute."""
    presence.touch(presence.OPERATORS, "telegram-1", ttl=presence.TELEGRAM_TTL)
    presence.touch(presence.OPERATORS, "socket-1", ttl=0.1)
    presence.leave(presence.OPERATORS, "socket-1")
    assert presence.is_online(presence.OPERATORS)


async def test_many_sockets_of_one_subject_at_once_lose_no_entry() -> None:
    key = presence.visitor_key(3)
    await asyncio.gather(*(presence.atouch(key, f"tab-{n}") for n in range(40)))
    assert await presence.ais_online(key)
    for n in range(39):
        assert (await presence.aleave(key, f"tab-{n}"))[1] is True
    assert await presence.aleave(key, "tab-39") == (True, False)
    assert not await presence.ais_online(key)


async def test_a_burst_of_departures_beyond_the_clients_pool_loses_none() -> None:
    # A deploy closes every socket of a process at once: more presence updates in
    # flight than the Redis client's pool has connections. They wait their turn;
    # none is dropped (each visitor is seen leaving).
    keys = [presence.visitor_key(1000 + n) for n in range(160)]
    await asyncio.gather(*(presence.atouch(key, "tab") for key in keys))
    left = await asyncio.gather(*(presence.aleave(key, "tab") for key in keys))
    assert left == [(True, False)] * len(keys)


def _expiry(key: str, connection_id: str) -> float | None:
    if presence.redis_url():
        found = presence.sync_redis().zscore(presence.REDIS_PREFIX + key, connection_id)
        return None if found is None else float(found)
    return (presence.cache.get(key) or {}).get(connection_id)


async def test_pings_are_refreshed_together_in_one_go() -> None:
    keys = [presence.visitor_key(2000 + n) for n in range(5)]
    for key in keys:
        await presence.atouch(key, "tab", ttl=1)
    before = [_expiry(key, "tab") for key in keys]
    for key in keys[:4]:
        presence.keep(key, "tab")  # these pinged; the last did not
    await presence.arefresh()
    after = [_expiry(key, "tab") for key in keys]
    for old, new in zip(before[:4], after[:4], strict=True):
        assert old is not None and new is not None and new > old + 30
    assert after[4] == before[4]


async def test_a_refresh_on_its_way_does_not_bring_back_a_socket_that_left() -> None:
    key = presence.visitor_key(2100)
    await presence.atouch(key, "tab")
    presence.keep(key, "tab")
    refreshing = asyncio.create_task(presence.arefresh())
    await asyncio.sleep(0)  # the refresh has taken its entries and is on its way
    assert await presence.aleave(key, "tab") == (True, False)
    await refreshing
    assert not await presence.ais_online(key)
    presence.keep(key, "tab")  # a ping from a socket that left meanwhile
    await presence.aleave(key, "tab")
    await presence.arefresh()
    assert not await presence.ais_online(key)
