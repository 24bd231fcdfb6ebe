"""The schema the migrations build is the one the models describe: a model changed without a migration
(or a migration without its model) fails here rather than on a city's database."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel


# SQLite's reflection skips expression indexes (ix_credit_records_retained), and says so.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_the_migrated_schema_matches_the_models(committed_engine: Engine) -> None:
    with committed_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
