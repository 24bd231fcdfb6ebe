"""drop the partner auth epoch: API keys are checked on every call, so nothing needs telling to check again

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table('partner_auth_epoch')


def downgrade() -> None:
    epoch = op.create_table(
        'partner_auth_epoch',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_auth_epoch')),
    )
    op.bulk_insert(epoch, [{'id': 1, 'value': 0}])
