"""The message writer's own connection to PostgreSQL (asyncio psycopg, autocommit):
how it is opened, and which of its errors are a bound on waiting rather than a lost
connection."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection as django_connection


async def connect() -> Any:
    """A connection as the writer's own (asyncio psycopg, autocommit), with Django's
    settings for the database (its adapters: datetimes come back as the ORM's do);
    also for tests and benchmarks."""
    import psycopg

    params = django_connection.get_connection_params()
    params.pop("cursor_factory", None)  # Django's is synchronous
    # Not longer than a request waits for the pool: a host that is gone must give
    # the senders their "unavailable" as soon.
    pool = django_connection.settings_dict["OPTIONS"].get("pool")
    wait = pool.get("timeout", 10) if isinstance(pool, dict) else 10
    params.setdefault("connect_timeout", max(int(wait), 2))
    # It lives as long as the process: a peer that vanished is noticed in ~30 s.
    params.setdefault("keepalives", 1)
    params.setdefault("keepalives_idle", 15)
    params.setdefault("keepalives_interval", 5)
    params.setdefault("keepalives_count", 3)
    if settings.SOHBET_WRITER_PREPARE:
        # Statements prepared once (realtime.sql.arun_together) and planned once.
        options = params.get("options", "")
        params["options"] = f"{options} -c plan_cache_mode=force_generic_plan".strip()
    return await psycopg.AsyncConnection.connect(**params, autocommit=True)


def is_timeout(exc: BaseException) -> bool:
    """Whether a database error is one of the bounds on waiting (a statement or lock
    timeout), not a lost connection: trying again at once would wait as long."""
    import psycopg

    return isinstance(
        exc.__cause__, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable
    )
