"""Writing many rows at once, as fast as the backend allows, inside the caller's transaction.

PostgreSQL: ``COPY … FROM STDIN`` on the session's own connection (for updates, into a temporary table that
is then joined). SQLite: one ``executemany``. Values are plain Python values of the column's type; JSON
columns take Python objects. Nothing is committed here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Table, bindparam, insert, update
from sqlmodel import Session


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _copy_value(value: Any, is_json: bool) -> Any:
    return (
        json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if is_json and value is not None
        else value
    )


def _copy(
    session: Session, target: str, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    json_columns = [isinstance(table.c[name].type, JSON) for name in columns]
    driver = session.connection().connection.driver_connection
    quoted = ", ".join(f'"{name}"' for name in columns)
    with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({quoted}) FROM STDIN") as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row([_copy_value(row[name], j) for name, j in zip(columns, json_columns, strict=True)])


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all carry the same keys. No conflict handling: the caller knows they are new."""
    if not rows:
        return
    columns = list(rows[0])
    if is_postgresql(session):
        _copy(session, f'"{table.name}"', table, columns, rows)
    else:
        session.execute(insert(table), list(rows))


def update_rows(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Update existing rows by ``key``; every row sets the same columns."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != key]
    if is_postgresql(session):
        staging = f"_bulk_{table.name}"
        all_columns = [key, *columns]
        select_list = ", ".join(f'"{name}"' for name in all_columns)
        connection = session.connection()
        connection.exec_driver_sql(
            f'CREATE TEMPORARY TABLE "{staging}" ON COMMIT DROP AS '  # noqa: S608 (names from metadata)
            f'SELECT {select_list} FROM "{table.name}" WITH NO DATA'
        )
        _copy(session, f'"{staging}"', table, all_columns, rows)
        assignments = ", ".join(f'"{name}" = s."{name}"' for name in columns)
        connection.exec_driver_sql(
            f'UPDATE "{table.name}" AS t SET {assignments} FROM "{staging}" AS s '  # noqa: S608
            f'WHERE t."{key}" = s."{key}"'
        )
        connection.exec_driver_sql(f'DROP TABLE "{staging}"')
        return
    statement = (
        update(table)
        .where(table.c[key] == bindparam(f"b_{key}"))
        .values({name: bindparam(f"b_{name}") for name in columns})
    )
    session.execute(statement, [{f"b_{name}": value for name, value in row.items()} for row in rows])
