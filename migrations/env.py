"""Alembic environment. The URL comes from the app settings, or a connection handed in by the caller
(``app.core.migrate``), so tests migrate the very database they use."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on the metadata)
from app.core.config import get_settings
from app.core.db import make_engine

target_metadata = SQLModel.metadata

# Every migration run on PostgreSQL holds this transaction-level advisory lock: replicas that start
# together (compose's migrate job, an API container running `xinyi migrate`) queue behind the first, then
# find the schema current and do nothing. The number is arbitrary and only has to be this project's.
MIGRATION_LOCK_ID = 0x78696E7969  # "xinyi"


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.attributes.get("url") or get_settings().database_url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Taken inside the transaction the migrations run in, so the commit (or a failure's rollback)
        # releases it; Alembic reads the current revision only after it is held.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations()
