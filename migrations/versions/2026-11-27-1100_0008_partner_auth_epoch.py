"""partner auth epoch: one number raised by every revocation of a key and change of a partner's status

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    epoch = op.create_table(
        'partner_auth_epoch',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_auth_epoch')),
    )
    op.bulk_insert(epoch, [{'id': 1, 'value': 0}])


def downgrade() -> None:
    op.drop_table('partner_auth_epoch')
