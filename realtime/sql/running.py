"""Running statements: several in one round trip, prepared once per connection."""

from __future__ import annotations

import hashlib
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Statement(Generic[T]):
    """One statement, its parameters, and what its rows become."""

    sql: str
    params: list[Any]
    finish: Callable[[list[tuple[Any, ...]]], T]
    returns_rows: bool = True


async def arun_together(
    statements: Sequence[Statement[Any]],
    aconnection: Any,
    *,
    begin: bool = False,
    commit: bool = False,
    prepare: bool,
) -> list[Any]:
    """Run ``statements`` on an asyncio psycopg connection in one round trip, after
    a ``BEGIN`` and before a ``COMMIT`` when asked; returns each one's result.

    One query string (PostgreSQL's simple protocol: parameters bound by psycopg), so
    one wait on a busy event loop per round trip. With ``prepare`` each statement is
    prepared on the connection the first time (``PREPARE`` in the same string) and
    run by name after (planning cost more than running; not behind a pooler in
    transaction mode: ``DATABASE_WRITER_PREPARE``). If one fails, PostgreSQL skips
    the rest, ``COMMIT`` too: the caller rolls back."""
    import psycopg

    head: list[str] = []
    parts: list[str] = []
    known: set[str] | None = None
    names: list[str] = []
    if prepare:
        known, fresh = _prepared_on(aconnection)
        if fresh is not None:
            head.append(fresh)
    for statement in statements:
        if known is None:
            parts.append(statement.sql)
            continue
        name, definition, execute = _prepared_forms(statement.sql)
        if name not in known and name not in names:
            head.append(definition)
        names.append(name)
        parts.append(execute)
    if begin:
        parts.insert(0, "BEGIN")
    if commit:
        parts.append("COMMIT")
    params = [param for statement in statements for param in statement.params]
    results = []
    async with psycopg.AsyncClientCursor(aconnection) as cursor:
        try:
            await cursor.execute("; ".join(head + parts), params or None)
        except BaseException:
            if head:
                _prepared[aconnection] = None  # which of them ran is unknown
            raise
        if known is not None:
            known.update(names)
        for _ in range(len(head) + begin):
            cursor.nextset()
        for statement in statements:
            rows = await cursor.fetchall() if statement.returns_rows else []
            results.append(statement.finish(rows))
            cursor.nextset()
    return results


# Prepared statements are planned again this often: a generic plan (the writer's
# connection asks for those, ``realtime.sql.connect``) made while a table was small,
# in a new database, scans the whole table; it must not outlive the table's growth,
# nor wait for autovacuum's next ANALYZE to be remade.
REPLAN_AFTER = 10.0


@dataclass(slots=True)
class _Prepared:
    names: set[str]
    until: float  # time.monotonic() after which they are deallocated and remade


# The statements prepared on each asyncio connection (``arun_together``); None: not
# known (a string that prepared some failed).
_prepared: weakref.WeakKeyDictionary[Any, _Prepared | None] = (
    weakref.WeakKeyDictionary()
)


def _prepared_on(aconnection: Any) -> tuple[set[str], str | None]:
    """The names prepared on ``aconnection``, and ``DEALLOCATE ALL`` when they are
    to be remade (or not known), else None."""
    now = time.monotonic()
    state = _prepared.get(aconnection)
    if state is not None and now < state.until:
        return state.names, None
    first = aconnection not in _prepared
    state = _prepared[aconnection] = _Prepared(set(), now + REPLAN_AFTER)
    return state.names, None if first else "DEALLOCATE ALL"


@cache
def _prepared_forms(sql: str) -> tuple[str, str, str]:
    """A statement's name, its ``PREPARE`` and its ``EXECUTE`` (placeholders for the
    client-side parameters). Only ``%s`` placeholders, as the builders here write."""
    if "%%" in sql or "%(" in sql:  # pragma: no cover - no builder writes them
        raise ValueError("only %s placeholders can be prepared")
    pieces = sql.split("%s")
    name = "sohbet_" + hashlib.blake2s(sql.encode(), digest_size=10).hexdigest()
    body = pieces[0] + "".join(
        f"${number}{piece}" for number, piece in enumerate(pieces[1:], 1)
    )
    arguments = ", ".join(["%s"] * (len(pieces) - 1))
    execute = f"EXECUTE {name}({arguments})" if arguments else f"EXECUTE {name}"
    return name, f"PREPARE {name} AS {body}", execute


async def arollback(aconnection: Any) -> None:
    """Roll back the transaction ``arun_together`` began, if one is open (failed
    or not)."""
    import psycopg

    if aconnection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        await aconnection.execute("ROLLBACK")
