"""Throwaway PostgreSQL databases for deployment tests (migrations racing, backup and restore), made on the
external leg's server and dropped afterwards, so concurrent runs never share one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import EXTERNAL

needs_postgresql = pytest.mark.skipif(not EXTERNAL, reason="PostgreSQL only: runs on the external leg")


@contextmanager
def fresh_database(label: str) -> Iterator[str]:
    """A new, empty database on the test server; yields its SQLAlchemy URL."""
    server = make_url(os.environ["XINYI_TEST_DATABASE_URL"])
    name = f"xinyi_{label}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
