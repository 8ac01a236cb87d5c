"""The statements of the message path, each built once per model and fields."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connections
from django.db.models import ForeignKey, Model

from realtime.sql.rows import (
    _fields,
    _insertable,
    _is_plain,
    _json_columns,
    _json_rows,
    _keys,
    _pk,
    _quote,
    _recordset,
    _table,
    connection_for,
)
from realtime.sql.running import Statement

M = TypeVar("M", bound=Model)


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
            for path, _model, _attnames, _key in layout[1:]:  # parents first
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


def match_statement(
    model: type[Model], names: Sequence[str], keys: Iterable[Sequence[Any]]
) -> Statement[list[int]]:
    """Primary keys of the stored rows whose fields ``names`` equal one of ``keys``
    (tuples of values in the order of ``names``, as the fields' attributes hold them:
    ids for foreign keys); ``keys`` not empty."""
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


@cache
def _insert_sql(
    alias: str, model: type[Model], keyed: bool, ignore_conflicts: bool = False
) -> str:
    connection = connections[alias]
    fields = model._meta.concrete_fields if keyed else _insertable(model)
    columns = ", ".join(_quote(connection, field.column) for field in fields)
    sql = (
        f"INSERT INTO {_table(connection, model)} ({columns}) "  # noqa: S608
        f"SELECT {columns} FROM {_recordset(connection, model)}"
    )
    returning = f" RETURNING {_quote(connection, _pk(model).column)}"
    if ignore_conflicts:
        return f"{sql} ON CONFLICT DO NOTHING{returning}"
    if keyed:
        return sql
    return f"{sql}{returning}"


def insert_statement(
    objs: Sequence[M], *, keyed: bool = False, ignore_conflicts: bool = False
) -> Statement[int]:
    """INSERT these new instances (at least one; every field but the key) in one
    statement; sets their primary keys, in order (rows of a set-returning function
    are inserted and returned in its order, as Django's own ``bulk_create`` relies on
    for PostgreSQL with ``unnest``). Its result: how many rows were inserted. With
    ``keyed``, the instances have their keys already (``keys_statement``) and are
    inserted with them: a row that breaks a constraint fails the statement, or with
    ``ignore_conflicts`` is left out (a row written before: not counted)."""
    model = type(objs[0])
    connection = connection_for(model)
    if (keyed or ignore_conflicts) and any(obj.pk is None for obj in objs):
        raise ValueError("a keyed insert takes instances with keys")  # pragma: no cover
    keyed = keyed or ignore_conflicts
    sql = _insert_sql(connection.alias, model, keyed, ignore_conflicts)
    params = [_json_rows(connection, objs, _json_columns(model, None, with_pk=keyed))]

    def finish(rows: list[tuple[Any, ...]]) -> int:
        if keyed:
            keys = [obj.pk for obj in objs]
        elif len(rows) == len(objs):
            keys = [row[0] for row in rows]
        else:  # pragma: no cover - the database broke its promise
            raise RuntimeError("the database did not return one id per row")
        for obj, pk in zip(objs, keys, strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = connection.alias
        return len(rows) if ignore_conflicts else len(objs)  # the rows exist

    return Statement(sql, params, finish, returns_rows=ignore_conflicts or not keyed)


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


def update_statement(objs: Sequence[Model], names: Sequence[str]) -> Statement[None]:
    """Write fields ``names`` of these saved instances (not empty) in one statement
    (Django's ``bulk_update`` builds a CASE WHEN per field and row: 2-3 ms of Python
    a row)."""
    model = type(objs[0])
    connection = connection_for(model)
    names = tuple(names)
    sql = _update_sql(connection.alias, model, names)
    columns = _json_columns(model, names, with_pk=True)
    params = [_json_rows(connection, objs, columns), _keys(obj.pk for obj in objs)]
    return Statement(sql, params, _nothing, returns_rows=False)


@cache
def _delete_sql(alias: str, model: type[Model]) -> str:
    connection = connections[alias]
    pk = _pk(model)
    return (
        f"DELETE FROM {_table(connection, model)} "  # noqa: S608
        f"WHERE {_quote(connection, pk.column)} = ANY(%s::{pk.db_type(connection)}[])"
    )


def delete_statement(model: type[Model], keys: Iterable[Any]) -> Statement[None]:
    """DELETE the rows of ``model`` with these primary keys (not empty)."""
    sql = _delete_sql(connection_for(model).alias, model)
    return Statement(sql, [_keys(keys)], _nothing, returns_rows=False)


def _nothing(rows: list[tuple[Any, ...]]) -> None:
    return None
