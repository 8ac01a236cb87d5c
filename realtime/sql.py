"""Batched SQL for the message path on PostgreSQL.

The message path stores a batch of messages in a handful of statements per
transaction (``chat.services.post_messages``). Built by the ORM, each of them cost
more Python than the database took to run it: the SQL compiler, ``bulk_update``'s
CASE WHEN per row and field, and psycopg quoting every parameter into the query text
(Django's client-side binding) were most of the message writer's time
(docs/performance.md). Here each statement is built once per model and field list,
the rows travel as one JSON parameter read with ``json_populate_recordset`` (as
arrays, one per column, psycopg's Python dumpers were the larger cost), and lists of
keys as one array text each (``_keys``). On Django's connection (the writer's
thread: resends, attachments) they run on psycopg cursors with server-side binding,
unprepared (Django turns preparing off, for connection poolers). On the writer's own
asyncio connection, where nearly every batch is stored, a batch's statements go in
two round trips and are prepared once (``arun_together``).

Each statement is a ``Statement`` (SQL, parameters, what its rows become), run on
Django's connection (``run``) or, several in one round trip, on the message writer's
asyncio connection (``arun_together``, ``chat.services.apost_messages``).

Identifiers come from the models' meta; every value is a query parameter. Only used
when ``supported()``; other databases keep the ORM.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, Generic, TypeVar

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, ForeignKey, Model
from django.utils.functional import Promise

M = TypeVar("M", bound=Model)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Statement(Generic[T]):
    """One statement, its parameters, and what its rows become: run on Django's
    connection (``run``) or on an asyncio psycopg connection (``arun_together``)."""

    sql: str
    params: list[Any]
    finish: Callable[[list[tuple[Any, ...]]], T]
    returns_rows: bool = True


def run(statement: Statement[T], connection: BaseDatabaseWrapper) -> T:
    """Run ``statement`` on Django's connection, in its transaction."""
    with _cursor(connection) as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall() if statement.returns_rows else []
    return statement.finish(rows)


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

    One query string of several statements: PostgreSQL's simple protocol, so the
    parameters are bound on the client (psycopg quotes them; the extended protocol
    takes one statement per message). Each round trip on the event loop is a wait
    for the socket and a turn of a busy loop; psycopg's pipeline mode, which would
    keep server-side binding, waited more often than this, not less.

    With ``prepare`` each statement is prepared on the connection the first time it
    runs there (``PREPARE``, in the same string) and run by name (``EXECUTE``) from
    then on: planning these statements cost PostgreSQL more than running them (the
    look-up: 0.44 ms planning, 0.10 ms running; docs/performance.md). Named
    statements live as long as the server session: not for a pooler in transaction
    mode (``DATABASE_WRITER_PREPARE``).

    If one statement fails, PostgreSQL skips the rest of the string, the ``COMMIT``
    too: the transaction is left failed, for the caller to roll back."""
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
# connection asks for those, ``realtime.writer._connect``) made while a table was small,
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


def connection_for(model: type[Model]) -> BaseDatabaseWrapper:
    return connections[router.db_for_write(model)]


def supported(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def _cursor(connection: BaseDatabaseWrapper) -> Iterator[Any]:
    """A server-side binding psycopg cursor on Django's connection (its transaction);
    errors come out as Django's database exceptions, as from the ORM."""
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
        yield cur


def _fields(model: type[Model], names: Sequence[str]) -> tuple[Field[Any, Any], ...]:
    return _fields_by_name(model, tuple(names))


@cache
def _fields_by_name(
    model: type[Model], names: tuple[str, ...]
) -> tuple[Field[Any, Any], ...]:
    by_name = {field.name: field for field in model._meta.concrete_fields}
    return tuple(by_name[name] for name in names)


def _pk(model: type[Model]) -> Field[Any, Any]:
    pk = model._meta.pk
    if pk is None:  # pragma: no cover - every concrete model has one
        raise TypeError(f"{model.__name__} has no primary key")
    return pk


def _quote(connection: BaseDatabaseWrapper, name: str) -> str:
    return str(connection.ops.quote_name(name))


def _keys(values: Iterable[Any]) -> Any:
    """An array parameter of keys (ints or UUIDs) as PostgreSQL's array text,
    ``{1,2,3}``: one string psycopg quotes at C speed, where a list is dumped element
    by element in Python. That, and the JSON rows' field split done on every call
    before ``_json_columns``, was a sixth of the writer's CPU per batch (batches of
    3: 0.80-0.95 -> 0.64-0.77 ms; docs/performance.md). Ints and UUIDs hold nothing
    an array's text must escape; any other value keeps the list, for psycopg."""
    values = list(values)
    if all(type(value) is int or type(value) is uuid.UUID for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    return values


def _json_default(value: Any) -> str:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal, Promise)):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


# Django's own field types whose values PostgreSQL takes as they are (Django's
# preparation returns them unchanged there), dumped by the JSON encoder (datetimes
# and UUIDs as text). Exact types: a subclass may prepare its values.
_PLAIN = {
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.BooleanField,
    models.CharField,
    models.DateTimeField,
    models.IntegerField,
    models.PositiveBigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallAutoField,
    models.SmallIntegerField,
    models.TextField,
    models.UUIDField,
}


def _is_plain(field: Field[Any, Any]) -> bool:
    if type(field) is ForeignKey:
        return _is_plain(field.target_field)
    return type(field) in _PLAIN


def _json_rows(
    connection: BaseDatabaseWrapper,
    objs: Sequence[Model],
    columns: tuple[tuple[tuple[str, str], ...], tuple[Field[Any, Any], ...]],
) -> str:
    """The rows as one JSON array of objects keyed by column: one parameter, dumped
    by the C JSON encoder (psycopg dumps array parameters element by element in
    Python, which was most of the writer's own CPU time). Plain fields' values go
    as they are; the others through Django's ``get_db_prep_save``."""
    plain, prepared = columns
    rows = []
    for obj in objs:
        row = {column: getattr(obj, attname) for column, attname in plain}
        for field in prepared:
            row[field.column] = field.get_db_prep_save(
                getattr(obj, field.attname), connection
            )
        rows.append(row)
    return _dumps(rows)


@cache
def _json_columns(
    model: type[Model], names: tuple[str, ...] | None, *, with_pk: bool
) -> tuple[tuple[tuple[str, str], ...], tuple[Field[Any, Any], ...]]:
    """What ``_json_rows`` writes of ``model``'s rows, worked out once per model and
    fields: the plain fields' (column, attribute) and the other fields. The fields
    ``names``, or every field but the key (None); ``with_pk``: the key too."""
    fields = _insertable(model) if names is None else list(_fields(model, names))
    if with_pk:
        fields.insert(0, _pk(model))
    plain = tuple((f.column, f.attname) for f in fields if _is_plain(f))
    return plain, tuple(f for f in fields if not _is_plain(f))


def _dumps(rows: list[dict[str, Any]]) -> str:
    return json.dumps(
        rows, default=_json_default, ensure_ascii=False, separators=(",", ":")
    )


def _recordset(connection: BaseDatabaseWrapper, model: type[Model]) -> str:
    """Rows of ``model``'s table type from a JSON parameter (``_json_rows``)."""
    return f"json_populate_recordset(NULL::{_table(connection, model)}, %s::json)"


def _table(connection: BaseDatabaseWrapper, model: type[Model]) -> str:
    return _quote(connection, model._meta.db_table)


@cache
def _lock_sql(
    alias: str, model: type[Model], names: tuple[str, ...]
) -> tuple[str, list[str]]:
    connection = connections[alias]
    # In the model's order: Model.from_db takes a subset's values in that order.
    wanted = {_pk(model).name, *names}
    fields = [f for f in model._meta.concrete_fields if not names or f.name in wanted]
    pk = _quote(connection, _pk(model).column)
    columns = ", ".join(_quote(connection, field.column) for field in fields)
    table = _quote(connection, model._meta.db_table)
    sql = (
        f"SELECT {columns} FROM {table} WHERE {pk} = ANY(%s::bigint[]) "  # noqa: S608
        f"ORDER BY {pk} FOR UPDATE"
    )
    return sql, [field.attname for field in fields]


def lock_statement(
    model: type[M], pks: Sequence[int], fields: Sequence[str] = ()
) -> Statement[list[M]]:
    """The rows with these primary keys, locked (FOR UPDATE) in key order; with
    ``fields``, only those are read (and the key), the others deferred."""
    alias = connection_for(model).alias
    sql, attnames = _lock_sql(alias, model, tuple(fields))

    def finish(rows: list[tuple[Any, ...]]) -> list[M]:
        return [model.from_db(alias, attnames, row) for row in rows]

    return Statement(sql, [_keys(pks)], finish)


@cache
def _related_sql(
    alias: str, model: type[Model], related: tuple[str, ...]
) -> tuple[str, tuple[tuple[str, type[Model]], ...]]:
    """``SELECT`` of ``model``'s rows by key with the forward relations ``related``
    (``select_related`` paths) LEFT JOINed; also the (path, model) of each joined
    table, in the order of their columns after the model's own."""
    connection = connections[alias]
    joined: dict[str, tuple[str, type[Model]]] = {"": ("r0", model)}  # path -> table
    joins = []
    for path in related:
        parts = path.split("__")
        for depth in range(1, len(parts) + 1):
            prefix = "__".join(parts[:depth])
            if prefix in joined:
                continue
            parent_alias, parent = joined["__".join(parts[: depth - 1])]
            field = parent._meta.get_field(parts[depth - 1])
            target = field.related_model
            if not isinstance(field, ForeignKey) or not isinstance(target, type):
                raise TypeError(f"{path}: not a forward relation of {parent.__name__}")
            table_alias = f"r{len(joined)}"
            joined[prefix] = (table_alias, target)
            joins.append(
                f"LEFT JOIN {_table(connection, target)} AS {table_alias} ON "
                f"{table_alias}.{_quote(connection, _pk(target).column)} = "
                f"{parent_alias}.{_quote(connection, field.column)}"
            )
    columns = ", ".join(
        f"{table_alias}.{_quote(connection, field.column)}"
        for table_alias, table in joined.values()
        for field in table._meta.concrete_fields
    )
    sql = (
        f"SELECT {columns} FROM {_table(connection, model)} AS r0 "  # noqa: S608
        + " ".join(joins)
        + f" WHERE r0.{_quote(connection, _pk(model).column)} = "
        f"ANY(%s::{_pk(model).db_type(connection)}[])"
    )
    return sql, tuple((path, table) for path, (_, table) in joined.items() if path)


def related_rows_statement(
    model: type[M], pks: Sequence[int], related: Sequence[str]
) -> Statement[list[M]]:
    """The rows with these primary keys, each with its forward relations ``related``
    loaded as ``select_related(*related)`` loads them (one statement, no ORM
    compilation: the SQL is built once per model and paths)."""
    alias = connection_for(model).alias
    sql, tables = _related_sql(alias, model, tuple(related))
    # Each table's place in a row: (path, model, attribute names, where its key is).
    layout: list[tuple[str, type[Model], list[str], int]] = []
    everyone: tuple[tuple[str, type[Model]], ...] = (("", model), *tables)
    for path, table in everyone:
        fields = table._meta.concrete_fields
        layout.append(
            (path, table, [f.attname for f in fields], fields.index(_pk(table)))
        )

    def finish(rows: list[tuple[Any, ...]]) -> list[M]:
        found = []
        for row in rows:
            loaded: dict[str, Model | None] = {}
            start = 0
            for path, table, attnames, key in layout:
                values = row[start : start + len(attnames)]
                start += len(attnames)
                # No related row (a null key): None, as select_related gives.
                loaded[path] = (
                    None
                    if values[key] is None
                    else table.from_db(alias, attnames, values)
                )
            for path, _table, _attnames, _key in layout[1:]:  # parents first
                parent_path, _, name = path.rpartition("__")
                parent = loaded[parent_path]
                if parent is not None:
                    setattr(parent, name, loaded[path])
            found.append(loaded[""])
        return found  # type: ignore[return-value]

    return Statement(sql, [_keys(pks)], finish)


@cache
def _match_sql(alias: str, model: type[Model], names: tuple[str, ...]) -> str:
    # The key tuples as arrays, one per column, unnested: PostgreSQL takes them for
    # a few rows and looks each up by the unique index. A join with a JSON
    # recordset, which it takes for 100 rows, was planned as a scan of the table.
    connection = connections[alias]
    pk = _quote(connection, _pk(model).column)
    fields = _fields(model, names)
    columns = ", ".join(_quote(connection, field.column) for field in fields)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    return (
        f"SELECT {pk} FROM {_table(connection, model)} "  # noqa: S608
        f"WHERE ({columns}) IN (SELECT * FROM unnest({arrays}))"
    )


def matching_pks(
    model: type[Model], names: Sequence[str], keys: Iterable[Sequence[Any]]
) -> list[int]:
    """Primary keys of the stored rows whose fields ``names`` equal one of ``keys``
    (tuples of values in the order of ``names``, as the fields' attributes hold
    them: ids for foreign keys)."""
    keys = list(keys)
    if not keys:
        return []
    return run(match_statement(model, names, keys), connection_for(model))


def match_statement(
    model: type[Model], names: Sequence[str], keys: Iterable[Sequence[Any]]
) -> Statement[list[int]]:
    """``matching_pks`` as a statement (``keys`` not empty)."""
    fields = _fields(model, names)
    if any(not _is_plain(field) for field in fields):  # pragma: no cover
        raise TypeError("match_statement takes plain fields only")
    columns = list(zip(*keys, strict=True))
    params = [_keys(values) for values in columns]
    sql = _match_sql(connection_for(model).alias, model, tuple(names))
    return Statement(sql, params, _first_column)


def _first_column(rows: list[tuple[Any, ...]]) -> list[Any]:
    return [row[0] for row in rows]


def keys_statement(model: type[Model], count: int) -> Statement[list[int]]:
    """``count`` new primary keys from the sequence of ``model``'s key column (an
    identity column, as Django makes them): rows inserted with them
    (``insert_statement(..., keyed=True)``) can be referred to in the statements
    sent with that insert, without waiting for the insert's answer."""
    connection = connection_for(model)
    # The sequence found once per statement, not once per key (a plain subquery
    # would be pulled up into the select list, and looked up per row).
    sql = (
        "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS "
        "seq) SELECT nextval(s.seq) FROM s, generate_series(1, %s)"
    )
    params = [_table(connection, model), _pk(model).column, count]
    return Statement(sql, params, _first_column)


def _insertable(model: type[Model]) -> list[Field[Any, Any]]:
    """Every column but the primary key, as Django's ``bulk_create`` inserts."""
    return [field for field in model._meta.concrete_fields if not field.primary_key]


@cache
def _insert_sql(
    alias: str, model: type[Model], unique: tuple[str, ...], keyed: bool = False
) -> str:
    connection = connections[alias]
    pk = _quote(connection, _pk(model).column)
    fields = model._meta.concrete_fields if keyed else _insertable(model)
    columns = ", ".join(_quote(connection, field.column) for field in fields)
    sql = (
        f"INSERT INTO {_table(connection, model)} ({columns}) "  # noqa: S608
        f"SELECT {columns} FROM {_recordset(connection, model)}"
    )
    if keyed:
        return sql
    if not unique:
        return f"{sql} RETURNING {pk}"
    keys = ", ".join(_quote(connection, f.column) for f in _fields(model, unique))
    return f"{sql} ON CONFLICT ({keys}) DO NOTHING RETURNING {pk}, {keys}"


def insert_statement(
    objs: Sequence[M], *, skip_existing: Sequence[str] = (), keyed: bool = False
) -> Statement[int]:
    """INSERT these new instances (at least one; every field but the key) in one
    statement; sets their primary keys, in order (rows of a set-returning function
    are inserted and returned in its order, as Django's own ``bulk_create`` relies on
    for PostgreSQL with ``unnest``). Its result: how many rows were inserted.

    With ``skip_existing`` (the fields of a unique constraint), a row whose values of
    those fields are already stored is skipped (``ON CONFLICT DO NOTHING``) and its
    instance keeps no primary key. With ``keyed``, the instances have their keys
    already (``keys_statement``) and are inserted with them: nothing comes back, a
    row that breaks a constraint fails the statement."""
    model = type(objs[0])
    connection = connection_for(model)
    unique = tuple(skip_existing)
    if keyed:
        if unique or any(obj.pk is None for obj in objs):  # pragma: no cover
            raise ValueError("a keyed insert takes instances with keys, no skipping")
        sql = _insert_sql(connection.alias, model, (), keyed=True)
        params = [
            _json_rows(connection, objs, _json_columns(model, None, with_pk=True))
        ]
    else:
        sql = _insert_sql(connection.alias, model, unique)
        params = [
            _json_rows(connection, objs, _json_columns(model, None, with_pk=False))
        ]

    def finish(rows: list[tuple[Any, ...]]) -> int:
        if keyed:
            keyed_rows = [(obj, obj.pk) for obj in objs]
        elif unique:
            attnames = [field.attname for field in _fields(model, unique)]
            pks = {tuple(row[1:]): row[0] for row in rows}
            keyed_rows = [
                (obj, pks.get(tuple(getattr(obj, a) for a in attnames))) for obj in objs
            ]
        elif len(rows) == len(objs):
            keyed_rows = [(obj, row[0]) for obj, row in zip(objs, rows, strict=True)]
        else:  # pragma: no cover - the database broke its promise
            raise RuntimeError("the database did not return one id per row")
        for obj, pk in keyed_rows:
            if pk is not None:
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias
        return len(keyed_rows) if keyed else len(rows)

    return Statement(sql, params, finish, returns_rows=not keyed)


@cache
def _update_sql(alias: str, model: type[Model], names: tuple[str, ...]) -> str:
    connection = connections[alias]
    pk = _quote(connection, _pk(model).column)
    columns = [_quote(connection, field.column) for field in _fields(model, names)]
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    # The keys again as an array: PostgreSQL takes any set-returning function for
    # 100 rows, and joined that to a scan of the whole table rather than look each
    # row up by its key (a batch updates a few of thousands of threads).
    return (
        f"UPDATE {_table(connection, model)} AS t SET {assignments} "  # noqa: S608
        f"FROM {_recordset(connection, model)} AS v "
        f"WHERE t.{pk} = ANY(%s::bigint[]) AND t.{pk} = v.{pk}"
    )


def update_rows(objs: Sequence[Model], names: Sequence[str]) -> None:
    """Write fields ``names`` of these saved instances in one statement.

    Django's ``bulk_update`` builds a CASE WHEN per field and row and costs 2-3 ms
    of Python per row; this a fraction of a millisecond (docs/performance.md).
    """
    if not objs:
        return
    run(update_statement(objs, names), connection_for(type(objs[0])))


def update_statement(objs: Sequence[Model], names: Sequence[str]) -> Statement[None]:
    """``update_rows`` as a statement (``objs`` not empty)."""
    model = type(objs[0])
    connection = connection_for(model)
    names = tuple(names)
    sql = _update_sql(connection.alias, model, names)
    columns = _json_columns(model, names, with_pk=True)
    params = [_json_rows(connection, objs, columns), _keys(obj.pk for obj in objs)]
    return Statement(sql, params, _nothing, returns_rows=False)


def _nothing(rows: list[tuple[Any, ...]]) -> None:
    return None
