"""state and trust: single use of an online pass held by the database, final webhook endpoint deletion

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:00:00

The unique index fails if a database already holds two online verifications of one pass (the replay the
store alone could let through after losing a key): find them with
``SELECT pass_id FROM verifications WHERE mode = 'online' GROUP BY pass_id HAVING count(*) > 1`` first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONLINE = "mode = 'online'"


def upgrade() -> None:
    op.create_index(
        'uq_verifications_online_pass',
        'verifications',
        ['pass_id'],
        unique=True,
        postgresql_where=sa.text(ONLINE),
        sqlite_where=sa.text(ONLINE),
    )
    op.add_column(
        'webhook_endpoints',
        sa.Column('deleted_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column('webhook_endpoints', 'deleted_at')
    op.drop_index('uq_verifications_online_pass', table_name='verifications')
