"""partner members: people who sign in by phone and act for a partner with a role, and their invitations

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.core.db

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'partner_members',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('partner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('invited_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['partner_id'], ['partners.id'], name=op.f('fk_partner_members_partner_id_partners')
        ),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_partner_members_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_members')),
        sa.UniqueConstraint('partner_id', 'user_id', name=op.f('uq_partner_members_partner_id')),
    )
    op.create_index(op.f('ix_partner_members_partner_id'), 'partner_members', ['partner_id'], unique=False)
    op.create_index(op.f('ix_partner_members_user_id'), 'partner_members', ['user_id'], unique=False)
    op.create_table(
        'partner_invitations',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('partner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('phone_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('phone_masked', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('invited_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('responded_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ['partner_id'], ['partners.id'], name=op.f('fk_partner_invitations_partner_id_partners')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_invitations')),
    )
    op.create_index(
        op.f('ix_partner_invitations_partner_id'), 'partner_invitations', ['partner_id'], unique=False
    )
    op.create_index(
        op.f('ix_partner_invitations_phone_hash'), 'partner_invitations', ['phone_hash'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_partner_invitations_phone_hash'), table_name='partner_invitations')
    op.drop_index(op.f('ix_partner_invitations_partner_id'), table_name='partner_invitations')
    op.drop_table('partner_invitations')
    op.drop_index(op.f('ix_partner_members_user_id'), table_name='partner_members')
    op.drop_index(op.f('ix_partner_members_partner_id'), table_name='partner_members')
    op.drop_table('partner_members')
