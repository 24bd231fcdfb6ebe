"""Throwaway PostgreSQL databases for deployment tests (migrations racing, backup and restore), made on the
external leg's server and dropped afterwards, so concurrent runs never share one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

from scripts import compose_smoke
from tests.conftest import EXTERNAL

needs_postgresql = pytest.mark.skipif(not EXTERNAL, reason="PostgreSQL only: runs on the external leg")


def server_url() -> str:
    """The external leg's server, as a URL to its ``postgres`` database."""
    server = make_url(os.environ["XINYI_TEST_DATABASE_URL"]).set(database="postgres")
    return server.render_as_string(hide_password=False)


@contextmanager
def fresh_database(label: str) -> Iterator[str]:
    """A new, empty database on the test server; yields its SQLAlchemy URL."""
    with compose_smoke.fresh_database(server_url(), label) as url:
        yield url
