"""Statements for the message path on PostgreSQL, each built once per model and
fields, run several in one round trip on an asyncio psycopg connection, prepared once
(``arun_together``: the message writer's, chat.storage).

Built by the ORM, a batch's statements cost more Python than the database took to run
them (docs/performance.md). Here rows travel as one JSON parameter read with
``json_populate_recordset`` and lists of keys as one array text each (``_keys``).
Identifiers come from the models' meta; every value is a query parameter. Only plain
field types are carried (``unsupported_fields``: chat.checks refuses the others).
"""

from realtime.sql.connecting import connect, is_timeout
from realtime.sql.rows import connection_for, unsupported_fields
from realtime.sql.running import Statement, arollback, arun_together
from realtime.sql.statements import (
    delete_statement,
    insert_statement,
    keys_statement,
    lock_statement,
    match_statement,
    related_rows_statement,
    update_statement,
)

__all__ = [
    "Statement",
    "arollback",
    "arun_together",
    "connect",
    "connection_for",
    "delete_statement",
    "insert_statement",
    "is_timeout",
    "keys_statement",
    "lock_statement",
    "match_statement",
    "related_rows_statement",
    "unsupported_fields",
    "update_statement",
]
