"""partial indexes for the scheduled jobs: records and list entries due to expire, records due for deletion

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 18:00:00

The plain index on credit_records.counts_until held every record, expired ones included, so an expiry run
with nothing to do ranged over all of them (16 s at 10M records, 4M expired); retention's query had no
index and read the whole table. The conditions are written out here as they were when this ran (the
model's constants may change later; a new migration then says how).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_DUE = "status IN ('active', 'disputed') AND counts_until IS NOT NULL"
RECORD_RETAINED = "severity IS NOT NULL"
LIST_ENTRY_DUE = "status = 'active' AND ends_on IS NOT NULL"


def _partial(name: str, table: str, columns: list, where: str) -> None:
    op.create_index(
        name, table, columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where)
    )


def upgrade() -> None:
    op.drop_index('ix_credit_records_counts_until', table_name='credit_records')
    _partial('ix_credit_records_due', 'credit_records', ['counts_until', 'id'], RECORD_DUE)
    _partial(
        'ix_credit_records_retained',
        'credit_records',
        [sa.text('coalesce(conduct_end_date, decision_date)'), 'id'],
        RECORD_RETAINED,
    )
    _partial('ix_credit_list_entries_due', 'credit_list_entries', ['ends_on', 'id'], LIST_ENTRY_DUE)


def downgrade() -> None:
    op.drop_index('ix_credit_list_entries_due', table_name='credit_list_entries')
    op.drop_index('ix_credit_records_retained', table_name='credit_records')
    op.drop_index('ix_credit_records_due', table_name='credit_records')
    op.create_index('ix_credit_records_counts_until', 'credit_records', ['counts_until'], unique=False)
