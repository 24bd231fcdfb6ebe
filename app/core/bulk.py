"""Writing many rows at once, as fast as the backend allows, inside the caller's transaction.

PostgreSQL: ``COPY … FROM STDIN`` on the session's own connection (for updates, into a temporary table that
is then joined). SQLite: one ``executemany``. Values are plain Python values of the column's type; JSON
columns take Python objects. Nothing is committed here.
"""

from __future__ import annotations

import gc
import json
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import JSON, ColumnElement, String, Table, any_, bindparam, cast, func, insert, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # app.core.ids
# Byte -> one of the 32 characters, each reached by exactly 8 byte values: uniform.
_RANDOM_CHARS = bytes.maketrans(bytes(range(256)), bytes(ord(_CROCKFORD[b & 31]) for b in range(256)))

# SQLite refuses statements with more than 32,766 parameters; stay well below.
SQLITE_IN_CHUNK = 5000


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def one_of(session: Session, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """``column IN values`` as one array parameter on PostgreSQL (``= ANY(:values)``), so a statement does
    not grow, nor get re-parsed, with the number of values. On SQLite keep ``values`` under
    :data:`SQLITE_IN_CHUNK`."""
    if is_postgresql(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(String())))
    return column.in_(values)


def each_of(values: Sequence[str]) -> Any:
    """PostgreSQL: ``values`` as a one-column set (``unnest(:values) AS anon(value)``) to join a table
    to, for a look-up that must probe an index once per value. Written as ``column = ANY(:values)``
    instead, a few thousand values on a table of a few hundred thousand rows or more are costed above a
    (parallel) scan of the whole table, and every chunk of an import pays that scan."""
    return (
        func.unnest(cast(bindparam(None, array_literal(values), type_=String()), ARRAY(String())))
        .table_valued("value")
        .render_derived()
    )


def array_literal(values: Sequence[str]) -> str:
    """PostgreSQL's text form of a text array, every element quoted (``{"a","b\\"c"}``): built in one
    comprehension, several times faster than the driver's list adapter for ten thousand values."""
    return (
        "{"
        + ",".join(['"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values])
        + "}"
    )


def fetch_tuples(session: Session, statement: Any, *, binary: bool = False) -> list[tuple[Any, ...]]:
    """All rows of a Core select as plain tuples. On PostgreSQL the statement goes straight to the
    driver: for hundreds of thousands of rows, SQLAlchemy's per-row result processing is the slow part.
    ``binary``: results in PostgreSQL's binary format (dates and numbers need no parsing; the values are
    the same)."""
    if not is_postgresql(session):
        return [tuple(row) for row in session.execute(statement)]
    compiled = statement.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    driver = session.connection().connection.driver_connection
    with driver.cursor(binary=binary) as cursor:  # type: ignore[union-attr]
        cursor.execute(str(compiled), compiled.params)
        return cursor.fetchall()


def in_chunks(session: Session, values: Sequence[str]) -> Iterator[Sequence[str]]:
    """All values at once on PostgreSQL; slices SQLite can take."""
    size = len(values) or 1 if is_postgresql(session) else SQLITE_IN_CHUNK
    for start in range(0, len(values), size):
        yield values[start : start + size]


@contextmanager
def few_collections() -> Iterator[None]:
    """Run bulk work with Python's cyclic garbage collector mostly out of the way.

    A batch allocates millions of short-lived tuples and strings that reference counting frees; the
    collector, triggered every 700 allocations, would scan them and, every so often, every object of the
    process (modules, metadata, caches) too: measured, 40 % of a rebuild's CPU. Objects alive on entry
    are frozen (never scanned) and collections run 70 times less often; both are undone on exit — except
    in a process that had frozen objects already (a server, see ``app.main.tune_gc``), whose objects stay
    frozen."""
    previous = gc.get_threshold()
    was_frozen = gc.get_freeze_count() > 0
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        if not was_frozen:
            gc.unfreeze()


def estimated_rows(session: Session, table: str) -> int:
    """PostgreSQL's estimate of a table's row count (0 before its first ANALYZE); 0 on SQLite."""
    if not is_postgresql(session):
        return 0
    value = (
        session.connection()
        .exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = %(name)s::regclass", {"name": table})
        .scalar()
    )
    return max(int(value or 0), 0)


def analyze(session: Session, tables: Sequence[str], *, lock_timeout: str = "2s") -> None:
    """Refresh the planner's statistics of ``tables`` (PostgreSQL; nothing on SQLite). A bulk load that
    grows a table many times over must not leave its plans to estimates made when it was small: with
    stale or no statistics (autovacuum off, or not yet run) PostgreSQL answers a chunk's ``= ANY(…)``
    look-up by filtering every row of the table, and the load turns quadratic.

    It is an optimisation, so it never waits long: a table another ANALYZE or a VACUUM holds (e.g. an
    anti-wraparound autovacuum) is skipped after ``lock_timeout``."""
    if not is_postgresql(session):
        return
    connection = session.connection()
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{lock_timeout}'")
    for table in tables:
        try:
            with connection.begin_nested():
                connection.exec_driver_sql(f'ANALYZE "{table}"')
        except OperationalError as exc:
            if not isinstance(exc.orig, psycopg.errors.LockNotAvailable):
                raise


def new_ids(prefix: str, count: int) -> list[str]:
    """``count`` ids in the format of :func:`app.core.ids.new_id`, increasing, for rows written in bulk.

    A ULID-style id is 10 characters of milliseconds then 16 characters (80 bits) of randomness; one
    batch shares the millisecond, and random bytes map straight onto the 32-character alphabet."""
    millis = time.time_ns() // 1_000_000
    head = "".join(_CROCKFORD[(millis >> shift) & 31] for shift in range(45, -5, -5))
    noise = secrets.token_bytes(16 * count).translate(_RANDOM_CHARS).decode()
    return sorted(f"{prefix}_{head}{noise[i : i + 16]}" for i in range(0, 16 * count, 16))


class JSONText(str):
    """A JSON column value already serialized by the caller (who often needs the text anyway, e.g. to
    hash it): written as is, not serialized again."""


def dumps(value: Any) -> JSONText:
    """Compact JSON, non-ASCII kept as is (the text ``json.dumps(value, ensure_ascii=False,
    separators=(",", ":"))`` gives), several times faster: a rebuild writes two documents per subject."""
    return JSONText(orjson.dumps(value).decode())


def _json(value: Any) -> Any:
    return value if value is None or isinstance(value, JSONText) else dumps(value)


def _python_values(table: Table, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """For executemany through SQLAlchemy, whose JSON type serializes by itself."""
    json_columns = [name for name in rows[0] if isinstance(table.c[name].type, JSON)]
    if not json_columns:
        return list(rows)
    return [
        {
            **row,
            **{
                name: json.loads(row[name]) if isinstance(row[name], JSONText) else row[name]
                for name in json_columns
            },
        }
        for row in rows
    ]


def _copy(
    session: Session, target: str, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    json_at = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    driver = session.connection().connection.driver_connection
    quoted = ", ".join(f'"{name}"' for name in columns)
    with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({quoted}) FROM STDIN") as copy:  # type: ignore[union-attr]
        write = copy.write_row
        for row in rows:
            values = [row[name] for name in columns]
            for i in json_at:
                values[i] = _json(values[i])
            write(values)


def _stage(
    session: Session, staging: str, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> str:
    """A temporary table ``staging`` with ``table``'s ``columns`` (dropped at commit), filled with ``rows``
    by COPY. Returns the quoted column list, for the statement that reads it back."""
    select_list = ", ".join(f'"{name}"' for name in columns)
    session.connection().exec_driver_sql(
        f'CREATE TEMPORARY TABLE "{staging}" ON COMMIT DROP AS '  # noqa: S608 (names from metadata)
        f'SELECT {select_list} FROM "{table.name}" WITH NO DATA'
    )
    _copy(session, f'"{staging}"', table, columns, rows)
    return select_list


_COPY_SLICE = 1000


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all carry the same keys. No conflict handling: the caller knows they are new.
    On PostgreSQL the rows are formatted here as COPY text, a column at a time, and sent in one piece."""
    if not rows:
        return
    columns = list(rows[0])
    if not is_postgresql(session):
        session.execute(insert(table), _python_values(table, rows))
        return
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
    quoted = ", ".join(f'"{name}"' for name in columns)
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:  # type: ignore[union-attr]
        # A slice at a time: PostgreSQL inserts one slice while the next is formatted here.
        for start in range(0, len(rows), _COPY_SLICE):
            part = rows[start : start + _COPY_SLICE]
            texts = [
                _column_text([row[name] for row in part], is_json=name in json_columns) for name in columns
            ]
            copy.write(("\n".join(map("\t".join, zip(*texts, strict=True))) + "\n").encode())


def _column_text(values: list[Any], *, is_json: bool = False) -> list[str]:
    """One column's values in COPY's text format (what :func:`_copy_text` gives for each), the common
    cases (text, None, dates, one timestamp) in comprehensions rather than a call per value: an import
    writes twenty-odd columns of a million rows."""
    if is_json:
        values = [_json(value) for value in values]
    if all(value is None or value.__class__ is str or value.__class__ is JSONText for value in values):
        return [
            "\\N"
            if value is None
            else value.translate(_COPY_ESCAPES)
            if ("\\" in value or "\t" in value or "\n" in value or "\r" in value)
            else value
            for value in values
        ]
    made: dict[Any, str] = {}  # text by value, for dates and timestamps (a column repeats them)
    texts: list[str] = []
    for value in values:
        if value is None:
            texts.append("\\N")
        elif value.__class__ is date or value.__class__ is datetime:
            known = made.get(value)
            if known is None:
                known = made[value] = _copy_text(value, {})
            texts.append(known)
        else:
            texts.append(_copy_text(value, {}))
    return texts


# COPY's text format: a backslash starts an escape, tab and newline end a field or a row.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any, made: dict[int, str]) -> str:
    """One value in COPY's text format. ``made`` keeps the text of values seen in this call by identity:
    rows written together often share a timestamp or a JSON document."""
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_ESCAPES)
        return value
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    text = made.get(id(value))
    if text is None:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a bulk write")
            text = value.isoformat()
        elif isinstance(value, date):
            text = value.isoformat()
        else:  # a JSON document as a Python object
            text = _copy_text(dumps(value), made)
        made[id(value)] = text
    return text


def insert_tuples(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """:func:`insert_rows` for rows given as tuples in the order of ``columns``: on PostgreSQL the rows
    are formatted here as COPY text and sent in one piece, the cheapest way in for a large batch. Values:
    None, str (:class:`JSONText` for a JSON column), bool, int, tz-aware datetime, date, or a JSON
    column's Python value."""
    if not rows:
        return
    if not is_postgresql(session):
        session.execute(
            insert(table), _python_values(table, [dict(zip(columns, row, strict=True)) for row in rows])
        )
        return
    made: dict[int, str] = {}
    copy_lines(
        session,
        table,
        columns,
        "".join(["\t".join([_copy_text(value, made) for value in row]) + "\n" for row in rows]),
    )


def copy_escaped(text: str) -> str:
    """``text`` as one field of COPY's text format."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def copy_lines(session: Session, table: Table, columns: Sequence[str], lines: str) -> None:
    """PostgreSQL only: rows already in COPY's text format (fields made with :func:`copy_escaped`, tab
    between them, a newline after each row), the values in the order of ``columns``."""
    if not lines:
        return
    quoted = ", ".join(f'"{name}"' for name in columns)
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:  # type: ignore[union-attr]
        copy.write(lines.encode())


def insert_rows_skipping_conflicts(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], key: str
) -> None:
    """Insert rows that all carry the same keys, skipping those whose unique ``key`` another transaction
    inserted meanwhile. PostgreSQL: COPY into a temporary table, then one ``INSERT … SELECT … ON
    CONFLICT DO NOTHING``."""
    if not rows:
        return
    columns = list(rows[0])
    if not is_postgresql(session):
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(
            sqlite_insert(table).on_conflict_do_nothing(index_elements=[key]),
            _python_values(table, rows),
        )
        return
    staging = f"_bulk_new_{table.name}"
    select_list = _stage(session, staging, table, columns, rows)
    connection = session.connection()
    connection.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({select_list}) SELECT {select_list} FROM "{staging}" '  # noqa: S608
        f'ON CONFLICT ("{key}") DO NOTHING'
    )
    connection.exec_driver_sql(f'DROP TABLE "{staging}"')


def update_rows(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Update existing rows by ``key``; every row sets the same columns."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != key]
    if is_postgresql(session):
        staging = f"_bulk_{table.name}"
        _stage(session, staging, table, [key, *columns], rows)
        connection = session.connection()
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
    session.execute(
        statement,
        [{f"b_{name}": value for name, value in row.items()} for row in _python_values(table, rows)],
    )
