"""partners' public face: display name, district, address and the scenarios they offer

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-06 23:00:00

The resident app's "where can I use it" lists the partners that show themselves publicly (a display
name set) with where they are and which scenarios they offer. Operators set these through the admin API.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('partners') as batch:
        batch.add_column(sa.Column('display_name', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('district', sa.String(length=50), nullable=True))
        batch.add_column(sa.Column('address', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('offered_scenarios', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('partners') as batch:
        batch.drop_column('offered_scenarios')
        batch.drop_column('address')
        batch.drop_column('district')
        batch.drop_column('display_name')
