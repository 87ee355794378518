"""Upsert many rows with one statement that is compiled once.

On PostgreSQL the rows go as one JSON document (rendered by orjson) into a single
`INSERT ... SELECT FROM json_to_recordset(...) ON CONFLICT` statement; elsewhere (SQLite, in
process) as an executemany of a single-row upsert. Either way the statement is compiled once
per table. What this replaced, measured per row saved by the gateway's rule flush: a
multi-VALUES statement of N rows is a new statement to compile for every N (~120 µs of CPU a
row); an executemany is a protocol round per row (~30 µs); arrays per column (`unnest`) go
through psycopg's Python array quoting (~20 µs).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Table, Text, bindparam, cast, column, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.type_api import TypeEngine

Row = dict[str, Any]
ROWS_PARAMETER = "rows"


@dataclass(frozen=True)
class Upsert:
    """Insert rows of `table`; on a conflict on `keys`, set `update` from the new row.
    `keep_unset`: a None in the new row keeps the stored value (COALESCE)."""

    table: Table
    keys: tuple[str, ...]
    update: tuple[str, ...]
    keep_unset: bool = False

    def statement(self, dialect: str) -> Any:
        if dialect == "postgresql":
            return self._recordset()
        statement = sqlite.insert(self.table).values(
            {column.name: bindparam(column.name, type_=_bind_type(column.type))
             for column in self.table.columns})
        return self._on_conflict(statement)

    def _recordset(self) -> Any:
        columns = list(self.table.columns)
        document = cast(bindparam(ROWS_PARAMETER, type_=Text), JSON)
        rows = func.json_to_recordset(document).table_valued(
            *[column(c.name, c.type) for c in columns]).render_derived(with_types=True)
        statement = postgresql.insert(self.table).from_select(
            [c.name for c in columns], select(*[rows.c[c.name] for c in columns]))
        return self._on_conflict(statement)

    def _on_conflict(self, statement: Any) -> Any:
        if not self.update:
            return statement.on_conflict_do_nothing(index_elements=list(self.keys))
        excluded = statement.excluded
        changes = {name: func.coalesce(excluded[name], self.table.c[name])
                   if self.keep_unset else excluded[name] for name in self.update}
        return statement.on_conflict_do_update(index_elements=list(self.keys), set_=changes)


def _bind_type(column_type: TypeEngine[Any]) -> TypeEngine[Any]:
    # A None in a JSON column must be SQL NULL (kept by COALESCE), not the JSON value null.
    return JSON(none_as_null=True) if isinstance(column_type, JSON) else column_type


async def upsert_rows(connection: AsyncConnection, upsert: Upsert, rows: Sequence[Row]) -> None:
    """Every row must have every column of the table."""
    if not rows:
        return
    dialect = connection.dialect.name
    statement = _compiled_statements.get((upsert, dialect))
    if statement is None:
        statement = _compiled_statements[(upsert, dialect)] = upsert.statement(dialect)
    if dialect == "postgresql":
        await connection.execute(statement, {ROWS_PARAMETER: _json_rows(rows)})
    else:
        await connection.execute(statement, list(rows))


def _json_rows(rows: Sequence[Row]) -> str:
    """The rows as PostgreSQL's json_to_recordset reads them: bytes as bytea's hex text."""
    try:
        return orjson.dumps(rows, default=_bytea, option=orjson.OPT_NAIVE_UTC).decode()
    except orjson.JSONEncodeError:  # an integer over 64 bits: the database will refuse it
        return json.dumps(rows, default=_json_default)


def _bytea(value: object) -> str:
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_default(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else _bytea(value)


_compiled_statements: dict[tuple[Upsert, str], Any] = {}
