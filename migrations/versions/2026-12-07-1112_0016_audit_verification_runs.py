"""audit verification runs: the log walked by the worker

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 11:12:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.core.db

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_verification_runs',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('chain', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('requested_by_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('requested_by_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('entries_total', sa.Integer(), nullable=True),
    sa.Column('entries_checked', sa.Integer(), nullable=False),
    sa.Column('chains', sa.Integer(), nullable=False),
    sa.Column('checkpoints', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=True),
    sa.Column('problems_total', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_verification_runs'))
    )
    with op.batch_alter_table('audit_verification_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_verification_runs_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('audit_verification_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_verification_runs_status'))

    op.drop_table('audit_verification_runs')
