"""Two replicas starting together on a fresh database both run `xinyi migrate`: the advisory lock makes
one wait for the other, so both succeed and the schema is built once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.deploy.pg import fresh_database, needs_postgresql

ROOT = Path(__file__).resolve().parents[2]

# Each process migrates and prints how many CREATE TABLE statements it sent itself.
MIGRATE_AND_COUNT = """
import sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
from app.core.migrate import upgrade

created = []

@event.listens_for(Engine, "before_cursor_execute")
def count(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip().upper().startswith("CREATE TABLE"):
        created.append(statement)

upgrade(url=sys.argv[1])
print(len(created))
"""


@needs_postgresql
def test_two_concurrent_upgrades_on_a_fresh_database_both_succeed_and_migrate_once() -> None:
    with fresh_database("migrate") as url:
        runs = [
            subprocess.Popen(  # noqa: S603 (this interpreter, our own script)
                [sys.executable, "-c", MIGRATE_AND_COUNT, url],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [run.communicate(timeout=120) for run in runs]

        assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in results]
        tables_created = sorted(int(out.strip().splitlines()[-1]) for out, _ in results)
        assert tables_created[0] == 0
        assert tables_created[1] > 20  # every table, by exactly one of the two
        engine = create_engine(url)
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        engine.dispose()
        assert len(versions) == 1
