"""scanner devices: a counter's phone or tablet with its own verify-only key, enrolled by a one-time code

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.core.db

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'scanner_devices',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('partner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('enrolment_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('enrolment_expires_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('api_key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('scenario', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('enrolled_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_scanner_devices_api_key_id_api_keys')),
        sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_scanner_devices_partner_id_partners')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scanner_devices')),
        sa.UniqueConstraint('api_key_id', name=op.f('uq_scanner_devices_api_key_id')),
        sa.UniqueConstraint('enrolment_hash', name=op.f('uq_scanner_devices_enrolment_hash')),
    )
    op.create_index(op.f('ix_scanner_devices_partner_id'), 'scanner_devices', ['partner_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_scanner_devices_partner_id'), table_name='scanner_devices')
    op.drop_table('scanner_devices')
