"""Rows and keys as query parameters: JSON rows, array texts, plain fields."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, ForeignKey, Model
from django.utils.functional import Promise


def connection_for(model: type[Model]) -> BaseDatabaseWrapper:
    return connections[router.db_for_write(model)]


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


def unsupported_fields(
    model: type[Model], names: Sequence[str]
) -> list[Field[Any, Any]]:
    """The fields among ``names`` that these statements cannot carry (their values
    would need Django's preparation and conversion on the way): the domain's system
    check refuses them at start-up rather than a post failing in production."""
    return [field for field in _fields(model, names) if not _carries(field)]


def _carries(field: Field[Any, Any]) -> bool:
    if isinstance(field, ForeignKey):  # a one-to-one too: its key is what goes
        return _carries(field.target_field)
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


def _insertable(model: type[Model]) -> list[Field[Any, Any]]:
    """Every column but the primary key, as Django's ``bulk_create`` inserts."""
    return [field for field in model._meta.concrete_fields if not field.primary_key]
