"""Behind PgBouncer in transaction mode (``XINYI_DATABASE_POOLER=pgbouncer``) the driver prepares no
statements: each transaction may run on another server connection, where a statement prepared on the
last one is missing or already exists. Straight to PostgreSQL, psycopg prepares as it does by default."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.core.db import make_engine
from tests.conftest import EXTERNAL

pytestmark = pytest.mark.skipif(not EXTERNAL, reason="a setting of the PostgreSQL driver")


@pytest.mark.parametrize(("pooler", "threshold"), [("pgbouncer", None), ("", 5)])
def test_the_pooler_setting_decides_whether_the_driver_prepares_statements(
    database_url: str, pooler: str, threshold: int | None
) -> None:
    engine = make_engine(database_url, pooler=pooler, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            for _ in range(8):  # past psycopg's threshold, where it would have prepared the statement
                assert connection.execute(text("SELECT 1")).scalar() == 1
            driver = connection.connection.driver_connection
            assert driver is not None
            assert driver.prepare_threshold == threshold
            prepared = connection.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
            assert (prepared == 0) is (threshold is None)
    finally:
        engine.dispose()
